//! NVIDIA GPUs as NVML describes them once (model, compute capability, limits) and how the
//! GPUs of one node are connected: NVLink between them, or the PCIe path they share.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Reading;

/// Slow-changing facts of one NVIDIA GPU, read once with the inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GpuInfo {
    pub index: u32,
    pub uuid: String,
    pub name: String,
    /// e.g. `00000000:3B:00.0`.
    pub pci_bus_id: Reading<String>,
    pub memory_total_bytes: Reading<u64>,
    /// CUDA compute capability, e.g. `9.0`.
    pub compute_capability: Reading<String>,
    pub max_sm_clock_mhz: Reading<u32>,
    pub max_memory_clock_mhz: Reading<u32>,
    /// The power limit the owner may set: `[min, max]` in watts.
    pub power_limit_range_w: Reading<(f64, f64)>,
    pub default_power_limit_w: Reading<f64>,
    /// Whether the GPU can be split into MIG instances (MIG mode readable).
    pub mig_capable: bool,
}

/// How close two GPUs' PCIe paths meet (NVML's topology levels, nearest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PcieLevel {
    /// Two GPUs on one board (e.g. a K80).
    SameBoard,
    SingleSwitch,
    MultipleSwitches,
    HostBridge,
    /// Same NUMA node, different host bridges.
    NumaNode,
    /// Across CPU sockets (SMP interconnect).
    System,
}

/// The connection between GPUs `a < b` of one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GpuLink {
    pub a: u32,
    pub b: u32,
    /// Active NVLinks from `a` that end at `b`; 0 when they talk over PCIe only.
    pub nvlinks: u32,
    pub pcie: Reading<PcieLevel>,
}

impl GpuLink {
    /// `nvlink` when any NVLink joins the two, else `pcie`.
    pub fn kind(&self) -> &'static str {
        if self.nvlinks > 0 { "nvlink" } else { "pcie" }
    }
}
