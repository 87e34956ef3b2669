//! One sample of a node: what every collector saw at one instant.
//!
//! These types cross every boundary (store, api, HTTP, Tauri, TypeScript), so they live here.
//! Rates (`*_bps`, `power_w` from counters) need two samples: they are `None` on the first.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Reading;
use crate::energy::{NodeEnergy, PowerSensor};

/// Milliseconds since the Unix epoch, UTC.
pub type TimestampMs = i64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Snapshot {
    pub ts_ms: TimestampMs,
    pub cpu: Reading<CpuStats>,
    pub memory: Reading<MemoryStats>,
    pub pressure: Reading<Pressure>,
    pub disks: Reading<Vec<DiskStats>>,
    pub networks: Reading<Vec<NetStats>>,
    pub temperatures: Reading<Vec<Temperature>>,
    pub processes: Reading<ProcessTable>,
    pub gpus: Reading<Vec<GpuStats>>,
    pub rapl: Reading<Vec<RaplDomain>>,
    pub cpufreq: Reading<Vec<CpuFreqPolicy>>,
    /// hwmon power/energy sensors and battery discharge.
    #[serde(default = "not_reported")]
    pub power_sensors: Reading<Vec<PowerSensor>>,
    /// The node's power and energy by source, with provenance (`crate::energy`).
    #[serde(default = "not_reported")]
    pub energy: Reading<NodeEnergy>,
}

impl Snapshot {
    /// A snapshot where nothing has been collected yet; collectors fill in their parts.
    pub fn empty(ts_ms: TimestampMs) -> Self {
        let pending = || "not collected yet".to_string();
        Snapshot {
            ts_ms,
            cpu: Reading::Unavailable { reason: pending() },
            memory: Reading::Unavailable { reason: pending() },
            pressure: Reading::Unavailable { reason: pending() },
            disks: Reading::Unavailable { reason: pending() },
            networks: Reading::Unavailable { reason: pending() },
            temperatures: Reading::Unavailable { reason: pending() },
            processes: Reading::Unavailable { reason: pending() },
            gpus: Reading::Unavailable { reason: pending() },
            rapl: Reading::Unavailable { reason: pending() },
            cpufreq: Reading::Unavailable { reason: pending() },
            power_sensors: Reading::Unavailable { reason: pending() },
            energy: Reading::Unavailable { reason: pending() },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CpuStats {
    /// Busy share of all logical cores, 0–100.
    pub total_pct: f64,
    /// Busy share of each logical core, 0–100, in core order.
    pub per_core_pct: Vec<f64>,
    /// 1, 5 and 15 minute load averages.
    pub load_avg: [f64; 3],
    /// Current frequency of each logical core where the kernel exposes it.
    pub frequency_mhz: Reading<Vec<u64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MemoryStats {
    pub total_bytes: u64,
    pub used_bytes: u64,
    pub available_bytes: u64,
    pub swap_total_bytes: u64,
    pub swap_used_bytes: u64,
}

/// Pressure stall information (/proc/pressure/*), per resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Pressure {
    pub cpu: Reading<PsiResource>,
    pub memory: Reading<PsiResource>,
    pub io: Reading<PsiResource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PsiResource {
    pub some: PsiLine,
    /// Absent for CPU on older kernels.
    pub full: Option<PsiLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PsiLine {
    /// Percent of wall time stalled, averaged over 10, 60 and 300 seconds.
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
    /// Cumulative stall time in microseconds.
    pub total_us: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DiskStats {
    /// Block device name, e.g. `vda` or `nvme0n1`.
    pub name: String,
    pub mount_point: String,
    pub file_system: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
    pub read_bps: Option<f64>,
    pub write_bps: Option<f64>,
    /// Share of wall time the device had I/O in flight, 0–100 (`iostat -x` %util, from
    /// diskstats' io_ticks). On a device that serves requests in parallel (NVMe) 100 % means
    /// "never idle", not "full".
    #[serde(default = "not_reported")]
    pub util_pct: Reading<f64>,
    /// Average number of requests in flight or queued (`iostat -x` aqu-sz, from diskstats'
    /// weighted time in queue).
    #[serde(default = "not_reported")]
    pub queue_depth: Reading<f64>,
}

/// For fields an older agent does not send: said, not guessed.
fn not_reported<T>() -> Reading<T> {
    Reading::unavailable("not reported by this agent version")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NetStats {
    pub name: String,
    pub rx_bytes_total: u64,
    pub tx_bytes_total: u64,
    pub rx_bps: Option<f64>,
    pub tx_bps: Option<f64>,
    /// Link speed as the driver reports it; unknown (virtual links, no carrier) is said, not guessed.
    pub link_speed_mbps: Reading<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Temperature {
    /// `chip/label`, e.g. `coretemp/Package id 0`.
    pub sensor: String,
    pub celsius: f64,
    pub max_celsius: Option<f64>,
    pub critical_celsius: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProcessTable {
    /// Number of processes on the node.
    pub count: u32,
    /// The busiest processes by CPU and by memory (union of both top-N lists).
    pub top: Vec<ProcessStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProcessStats {
    pub pid: u32,
    pub name: String,
    pub command: String,
    pub user: Option<String>,
    /// Percent of one core (can exceed 100 on multi-threaded processes).
    pub cpu_pct: f64,
    pub rss_bytes: u64,
    pub read_bps: Option<f64>,
    pub write_bps: Option<f64>,
    /// Executable path (`/proc/<pid>/exe`); absent where the link is unreadable (other users').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub exe: Option<String>,
    /// cgroup v2 path (`/proc/<pid>/cgroup`), e.g. `/system.slice/ollama.service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cgroup: Option<String>,
    /// TCP traffic per interface (from the kernel's per-socket counters); absent where it is
    /// not collected or the process moved no TCP bytes. UDP and other protocols are not counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<ProcessNet>>", optional)]
    pub net: Vec<ProcessNet>,
}

/// A process's TCP byte rates on one interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProcessNet {
    pub interface: String,
    pub rx_bps: f64,
    pub tx_bps: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GpuStats {
    pub index: u32,
    pub uuid: String,
    pub name: String,
    pub utilization_pct: Reading<f64>,
    pub memory_utilization_pct: Reading<f64>,
    pub memory_used_bytes: Reading<u64>,
    pub memory_total_bytes: Reading<u64>,
    pub power_w: Reading<f64>,
    pub power_limit_w: Reading<f64>,
    /// Energy consumed since the driver loaded (NVML total energy counter).
    pub energy_j: Reading<f64>,
    pub temperature_c: Reading<f64>,
    pub sm_clock_mhz: Reading<u32>,
    pub memory_clock_mhz: Reading<u32>,
    /// Active clock throttle reasons, e.g. `sw_power_cap`, `hw_thermal_slowdown`.
    pub throttle_reasons: Reading<Vec<String>>,
    pub processes: Reading<Vec<GpuProcess>>,
    /// MIG (multi-instance GPU) mode and instances; unavailable where the GPU or driver has
    /// no MIG.
    #[serde(default = "mig_not_reported")]
    pub mig: Reading<GpuMig>,
}

fn mig_not_reported() -> Reading<GpuMig> {
    Reading::unavailable("not reported (agent predates MIG support)")
}

/// A GPU's MIG state as the driver reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GpuMig {
    /// MIG mode is on: the GPU is split into the instances below.
    pub enabled: bool,
    /// Empty while MIG mode is off.
    pub instances: Vec<MigDevice>,
}

/// One MIG device (a GPU instance with its compute instance) of a GPU in MIG mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MigDevice {
    /// Its index among the GPU's MIG devices.
    pub index: u32,
    pub uuid: String,
    /// Profile, e.g. `1g.10gb` (the suffix of the name NVML gives the device).
    pub profile: String,
    pub memory_total_bytes: Reading<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GpuProcess {
    pub pid: u32,
    pub used_memory_bytes: Option<u64>,
    pub sm_utilization_pct: Option<u32>,
}

/// A powercap/RAPL zone, e.g. `package-0` or `dram`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RaplDomain {
    /// sysfs zone id, e.g. `intel-rapl:0`.
    pub zone: String,
    pub name: String,
    /// Cumulative energy counter in joules (wraps at `max_energy_j`).
    pub energy_j: f64,
    pub max_energy_j: f64,
    pub power_w: Option<f64>,
}

/// A cpufreq policy (a set of CPUs that share a frequency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CpuFreqPolicy {
    /// e.g. `policy0`.
    pub policy: String,
    pub cpus: Vec<u32>,
    pub governor: String,
    pub available_governors: Vec<String>,
    pub current_khz: Option<u64>,
    pub min_khz: u64,
    pub max_khz: u64,
    pub hardware_min_khz: u64,
    pub hardware_max_khz: u64,
}

/// What a node is: slow-changing facts collected once (and on demand).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Inventory {
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    pub cpu_model: String,
    pub logical_cores: u32,
    pub physical_cores: Option<u32>,
    pub memory_total_bytes: u64,
    /// Every adapter wgpu enumerates (Vulkan, GL, ...), software ones included and labelled.
    pub adapters: Reading<Vec<Adapter>>,
    /// NVIDIA GPUs as NVML describes them (absent from agents older than this field).
    #[serde(default = "not_reported")]
    pub gpus: Reading<Vec<crate::accel::GpuInfo>>,
    /// NVLink and PCIe paths between this node's NVIDIA GPUs.
    #[serde(default = "not_reported")]
    pub gpu_links: Reading<Vec<crate::accel::GpuLink>>,
    /// Accelerators registered in this node's configuration (`[[accelerators]]`).
    #[serde(default)]
    pub accelerators: Vec<crate::accel::AcceleratorSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Adapter {
    pub name: String,
    /// `vulkan`, `gl`, `metal`, `dx12`.
    pub backend: String,
    /// `discrete_gpu`, `integrated_gpu`, `virtual_gpu`, `cpu`, `other`.
    pub device_type: String,
    pub vendor_id: u32,
    pub device_id: u32,
    pub driver: String,
    pub driver_info: String,
    /// True for CPU rasterizers such as llvmpipe/lavapipe/SwiftShader.
    pub is_software: bool,
    pub limits: BTreeMap<String, u64>,
}
