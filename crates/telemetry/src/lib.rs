//! steward-telemetry: collectors that fill a [`steward_core::Snapshot`], and the adaptive
//! [`Sampler`] that runs them.
//!
//! Every collector reads one source and writes its own part(s) of the snapshot. A missing or
//! unreadable source becomes `Reading::Unavailable` with a human reason: nothing here invents a
//! number. Collectors that read procfs/sysfs take a root path (default `/`) so tests can point
//! them at fixture trees copied from real kernels.

pub mod accel_bench;
pub mod adapter_probe;
pub mod adapters;
pub mod cpu;
pub mod cpufreq;
pub mod disks;
pub mod energy;
mod error;
#[cfg(any(test, feature = "fake-nvml"))]
pub mod fake_nvml;
pub mod gpu_nvidia;
pub mod gpu_topology;
pub mod hwmon;
pub mod inventory;
pub mod memory;
pub mod module_sampler;
pub mod network;
pub mod portable;
pub mod power_control;
pub mod power_sensors;
pub mod pressure;
pub mod processes;
pub mod rapl;
pub mod sampler;
pub mod sampling_cost;
pub mod socket_traffic;
mod sysfs;

pub use error::TelemetryError;
pub use inventory::inventory;
pub use sampler::{Backend, Mode, Sampler, SamplerConfig, interval_ms};
pub use sampling_cost::{CollectorCost, CostMeter};

use steward_core::Snapshot;

/// How much a collector costs per run; the sampler's policy runs expensive ones less often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cost {
    /// A few small file reads: fine at 1 Hz.
    Cheap,
    /// Many files, a driver round trip or a syscall per object: run it slower.
    Expensive,
}

/// One source of telemetry.
///
/// A collector keeps whatever it needs between samples (previous counters for rates), so rates
/// are `None` on its first run.
pub trait Collector: Send {
    /// Short stable name, e.g. `cpu`, used in logs and the sampler's schedule.
    fn name(&self) -> &'static str;
    fn cost(&self) -> Cost;
    /// Sample now and write this collector's part(s) of `snap`.
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot);
    /// Called when the sampler's mode changes, for collectors with an inner schedule of their own
    /// (the process table's full rescan).
    fn set_mode(&mut self, _mode: Mode) {}
}
