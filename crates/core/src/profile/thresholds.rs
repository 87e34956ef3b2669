//! Where the bottleneck rules draw their lines. Every value can be set in the config file.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct Thresholds {
    /// Mean busy share of all cores over the window, percent.
    pub cpu_util_pct: f64,
    /// PSI cpu `some` avg10, percent of time runnable tasks waited.
    pub cpu_psi_some_pct: f64,
    /// 1-minute load average per logical core (run queue).
    pub cpu_run_queue_per_core: f64,
    /// A process at this share of one core (and at most 110 %) while the machine has room is
    /// bound to one core (likely single-threaded), percent of a core.
    pub core_bound_pct: f64,
    /// PSI memory `some` avg10, percent.
    pub mem_psi_some_pct: f64,
    /// Available memory below this share of total is too little headroom, percent.
    pub mem_headroom_pct: f64,
    /// Swap growth over the window that counts as swap activity, bytes per second.
    pub swap_growth_bps: f64,
    /// PSI io `some` avg10, percent.
    pub io_psi_some_pct: f64,
    /// Device utilization (`iostat -x` %util) that counts as busy, percent.
    pub disk_util_pct: f64,
    /// Average requests in flight or queued (aqu-sz) that counts as a queue on a busy device.
    pub disk_queue_depth: f64,
    /// Interface throughput against its link speed, percent.
    pub net_util_pct: f64,
    /// GPU SM utilization that counts as compute-bound, percent.
    pub gpu_util_pct: f64,
    /// GPU memory-controller utilization that counts as memory-bound, percent.
    pub gpu_mem_bw_pct: f64,
    /// GPU memory in use that counts as allocated for the idle-while-allocated rule, percent.
    pub gpu_alloc_pct: f64,
    /// GPU utilization at or below which an allocated GPU counts as idle, percent.
    pub gpu_idle_util_pct: f64,
    /// A sensor within this many °C of its max/critical mark counts as hot.
    pub temp_margin_c: f64,
    /// A process needs at least this share of the resource to be named a culprit, percent of
    /// the total usage that the rule measures.
    pub culprit_min_share_pct: f64,
    /// An active finding ends only when its signal falls this far (percent of the threshold)
    /// on the safe side of the threshold: hysteresis against flapping.
    pub exit_margin_pct: f64,
    /// An active finding ends only after its rule has been quiet this long, ms.
    pub clear_after_ms: i64,
    /// Samples a window needs before any rule speaks.
    pub min_samples: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            cpu_util_pct: 90.0,
            cpu_psi_some_pct: 40.0,
            cpu_run_queue_per_core: 2.0,
            core_bound_pct: 90.0,
            mem_psi_some_pct: 10.0,
            mem_headroom_pct: 10.0,
            swap_growth_bps: 1_048_576.0,
            io_psi_some_pct: 30.0,
            disk_util_pct: 90.0,
            // One request waiting behind the one in service, on average.
            disk_queue_depth: 2.0,
            net_util_pct: 80.0,
            gpu_util_pct: 90.0,
            gpu_mem_bw_pct: 80.0,
            gpu_alloc_pct: 10.0,
            gpu_idle_util_pct: 5.0,
            temp_margin_c: 5.0,
            culprit_min_share_pct: 10.0,
            exit_margin_pct: 10.0,
            clear_after_ms: 15_000,
            min_samples: 3,
        }
    }
}

impl Thresholds {
    /// The line a "higher is worse" signal must cross: `enter` normally, lower while active.
    pub fn above(&self, enter: f64, active: bool) -> f64 {
        if active { enter * (1.0 - self.exit_margin_pct / 100.0) } else { enter }
    }

    /// The line a "lower is worse" signal must fall under: `enter` normally, higher while active.
    pub fn below(&self, enter: f64, active: bool) -> f64 {
        if active { enter * (1.0 + self.exit_margin_pct / 100.0) } else { enter }
    }
}
