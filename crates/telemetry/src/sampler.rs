//! The adaptive sampler: owns the collectors and runs each when its policy says it is due.

use std::path::PathBuf;
use std::time::Instant;

use steward_core::Snapshot;

use crate::sampling_cost::CostMeter;
use crate::{Collector, Cost};

/// How visible the app is; the less visible, the slower we sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A window shows live data.
    Active,
    /// The app runs but no window shows live data.
    Hidden,
    /// The user is away (no input for a while).
    Idle,
}

/// Longest interval a cheap signal may have: history and alerts stay meaningful.
pub const CHEAP_MAX_INTERVAL_MS: i64 = 10_000;

/// How often a collector of `cost` runs in `mode`. Pure: the whole adaptive policy.
pub fn interval_ms(mode: Mode, cost: Cost) -> i64 {
    match (mode, cost) {
        (Mode::Active, Cost::Cheap) => 1_000,
        (Mode::Active, Cost::Expensive) => 5_000,
        (Mode::Hidden, Cost::Cheap) => 5_000,
        (Mode::Hidden, Cost::Expensive) => 30_000,
        (Mode::Idle, Cost::Cheap) => CHEAP_MAX_INTERVAL_MS,
        (Mode::Idle, Cost::Expensive) => 60_000,
    }
}

/// Where the collectors read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// /proc and /sys, read directly: the most detail (pressure, RAPL, cpufreq, disk
    /// utilisation, per-process TCP traffic). Linux only.
    #[cfg_attr(all(target_os = "linux", not(feature = "portable")), default)]
    Procfs,
    /// The `sysinfo` crate: the same snapshot on every system it supports, with what it cannot
    /// measure marked unavailable. The default where /proc and /sys are absent.
    #[cfg_attr(any(not(target_os = "linux"), feature = "portable"), default)]
    Portable,
}

impl Backend {
    /// `procfs` or `portable`, as the config file names it.
    pub fn parse(name: &str) -> Result<Backend, String> {
        match name {
            "procfs" => Ok(Backend::Procfs),
            "portable" => Ok(Backend::Portable),
            other => Err(format!("unknown telemetry backend {other:?}: expected \"procfs\" or \"portable\"")),
        }
    }
}

/// What the sampler needs; `Default` works with no configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplerConfig {
    /// Root under which /proc and /sys are read (tests point this at fixtures).
    pub root: PathBuf,
    /// libnvidia-ml path; `None` lets nvml-wrapper find `libnvidia-ml.so.1`.
    /// `STEWARD_NVML_LIB` overrides both (see [`SamplerConfig::from_env`]).
    pub nvml_lib: Option<PathBuf>,
    /// How many processes to keep per ranking (by CPU, by memory).
    pub top_n: usize,
    pub processes: bool,
    pub gpus: bool,
    pub backend: Backend,
    /// The CPU's TDP in watts for the power model of a node without RAPL (`[energy] cpu_tdp_w`);
    /// `None` looks the CPU up in a small table.
    pub cpu_tdp_w: Option<u32>,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            root: PathBuf::from("/"),
            nvml_lib: None,
            top_n: 15,
            processes: true,
            gpus: true,
            backend: Backend::default(),
            cpu_tdp_w: None,
        }
    }
}

impl SamplerConfig {
    /// Defaults, with `STEWARD_NVML_LIB` applied.
    pub fn from_env() -> Self {
        let mut c = SamplerConfig::default();
        if let Some(p) = std::env::var_os("STEWARD_NVML_LIB").filter(|p| !p.is_empty()) {
            c.nvml_lib = Some(p.into());
        }
        c
    }
}

/// The /proc and /sys collectors.
fn procfs_collectors(config: &SamplerConfig) -> Vec<Box<dyn Collector>> {
    let root = &config.root;
    let mut cs: Vec<Box<dyn Collector>> = vec![
        Box::new(crate::cpu::CpuCollector::new(root)),
        Box::new(crate::memory::MemoryCollector::new(root)),
        Box::new(crate::pressure::PressureCollector::new(root)),
        Box::new(crate::disks::DisksCollector::new(root)),
        Box::new(crate::network::NetworkCollector::new(root)),
        Box::new(crate::hwmon::HwmonCollector::new(root)),
        Box::new(crate::rapl::RaplCollector::new(root)),
        Box::new(crate::cpufreq::CpuFreqCollector::new(root)),
        Box::new(crate::power_sensors::PowerSensorCollector::new(root)),
    ];
    if config.processes {
        cs.push(Box::new(crate::processes::ProcessCollector::new(root, config.top_n)));
    }
    cs
}

struct Slot {
    collector: Box<dyn Collector>,
    /// `None` until the first run: a new collector is due at once.
    next_due_ms: Option<i64>,
    last_run_ms: Option<i64>,
}

pub struct Sampler {
    slots: Vec<Slot>,
    mode: Mode,
    last: Snapshot,
    cost: CostMeter,
}

impl Sampler {
    /// The standard set of collectors for `config`.
    pub fn new(config: &SamplerConfig) -> Self {
        let mut cs = match config.backend {
            Backend::Procfs => procfs_collectors(config),
            Backend::Portable => crate::portable::collectors(config.top_n, config.processes),
        };
        if config.gpus {
            cs.push(Box::new(crate::gpu_nvidia::NvidiaCollector::new(config.nvml_lib.as_deref())));
        }
        // Last: it reads what the others wrote.
        cs.push(Box::new(crate::energy::EnergyCollector::new(&config.root, config.cpu_tdp_w)));
        Sampler::with_collectors(cs)
    }

    pub fn with_collectors(collectors: Vec<Box<dyn Collector>>) -> Self {
        Sampler {
            slots: collectors
                .into_iter()
                .map(|collector| Slot { collector, next_due_ms: None, last_run_ms: None })
                .collect(),
            mode: Mode::Active,
            last: Snapshot::empty(0),
            cost: CostMeter::default(),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Switch mode; already scheduled runs are pulled in if the new mode is faster.
    pub fn set_mode(&mut self, mode: Mode) {
        if mode == self.mode {
            return;
        }
        self.mode = mode;
        for s in &mut self.slots {
            s.collector.set_mode(mode);
            // Speeding up pulls the next run in; slowing down takes effect after the next run.
            if let (Some(last), Some(due)) = (s.last_run_ms, s.next_due_ms) {
                s.next_due_ms = Some(due.min(last + interval_ms(mode, s.collector.cost())));
            }
        }
    }

    /// Run the collectors that are due at `now_ms`; parts not due keep their last reading.
    pub fn tick(&mut self, now_ms: i64) -> Snapshot {
        let mut ran = Vec::with_capacity(self.slots.len());
        for s in &mut self.slots {
            if s.next_due_ms.is_none_or(|d| d <= now_ms) {
                let started = Instant::now();
                s.collector.collect(now_ms, &mut self.last);
                ran.push((s.collector.name(), started.elapsed()));
                s.next_due_ms = Some(now_ms + interval_ms(self.mode, s.collector.cost()));
                s.last_run_ms = Some(now_ms);
            }
        }
        self.cost.record(&ran);
        self.last.ts_ms = now_ms;
        self.last.clone()
    }

    /// What each collector has cost so far; the meter stays shared after the sampler moves to
    /// its thread.
    pub fn cost_meter(&self) -> CostMeter {
        self.cost.clone()
    }

    /// When the next collector is due, so the caller's loop can sleep exactly until then.
    pub fn next_due_ms(&self) -> Option<i64> {
        self.slots.iter().map(|s| s.next_due_ms.unwrap_or(i64::MIN)).min()
    }

    /// Names of the collectors in run order.
    pub fn collector_names(&self) -> Vec<&'static str> {
        self.slots.iter().map(|s| s.collector.name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_core::Reading;

    #[test]
    fn policy_is_slower_when_less_visible_and_cheap_never_coarser_than_10s() {
        for cost in [Cost::Cheap, Cost::Expensive] {
            assert!(interval_ms(Mode::Active, cost) <= interval_ms(Mode::Hidden, cost));
            assert!(interval_ms(Mode::Hidden, cost) <= interval_ms(Mode::Idle, cost));
        }
        for mode in [Mode::Active, Mode::Hidden, Mode::Idle] {
            assert!(interval_ms(mode, Cost::Cheap) <= CHEAP_MAX_INTERVAL_MS);
            assert!(interval_ms(mode, Cost::Cheap) < interval_ms(mode, Cost::Expensive));
        }
        assert_eq!(interval_ms(Mode::Active, Cost::Cheap), 1_000);
    }

    struct Counter(&'static str, Cost, u32);
    impl Collector for Counter {
        fn name(&self) -> &'static str {
            self.0
        }
        fn cost(&self) -> Cost {
            self.1
        }
        fn collect(&mut self, _now: i64, snap: &mut Snapshot) {
            self.2 += 1;
            match self.1 {
                Cost::Cheap => snap.memory = Reading::unavailable(format!("cheap run {}", self.2)),
                Cost::Expensive => snap.disks = Reading::unavailable(format!("expensive run {}", self.2)),
            }
        }
    }

    #[test]
    fn runs_what_is_due_and_carries_the_rest() {
        let mut s = Sampler::with_collectors(vec![
            Box::new(Counter("c", Cost::Cheap, 0)),
            Box::new(Counter("e", Cost::Expensive, 0)),
        ]);
        let snap = s.tick(0);
        assert_eq!(snap.memory.reason(), Some("cheap run 1"));
        assert_eq!(snap.disks.reason(), Some("expensive run 1"));
        assert_eq!(s.next_due_ms(), Some(1_000));
        let snap = s.tick(1_000);
        assert_eq!(snap.ts_ms, 1_000);
        assert_eq!(snap.memory.reason(), Some("cheap run 2"));
        assert_eq!(snap.disks.reason(), Some("expensive run 1"));
        for t in 2..=5 {
            s.tick(t * 1_000);
        }
        assert_eq!(s.last.disks.reason(), Some("expensive run 2"));
        let cost = s.cost_meter().read();
        assert_eq!(cost.iter().map(|(n, c)| (*n, c.runs)).collect::<Vec<_>>(), vec![("c", 6), ("e", 2)]);

        s.set_mode(Mode::Idle);
        s.tick(6_000);
        // The expensive run scheduled under Active (at 10 s) is kept; after it, Idle spacing.
        assert_eq!(s.next_due_ms(), Some(10_000));
        s.tick(10_000);
        assert_eq!(s.next_due_ms(), Some(16_000));
        // Back to active: the cheap collector is pulled in to 1 s after its last run.
        s.set_mode(Mode::Active);
        assert_eq!(s.next_due_ms(), Some(7_000));
    }
}
