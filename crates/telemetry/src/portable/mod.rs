//! The portable backend: collectors on the `sysinfo` crate, behind the same [`Collector`] trait,
//! for systems without /proc and /sys (macOS, Windows) and, on Linux, when asked for
//! (`[telemetry] backend = "portable"`).
//!
//! It fills what sysinfo measures: CPU (total, per core, load, frequency), memory and swap, file
//! systems with their I/O rates, interfaces with their byte counters, processes, temperatures.
//! What sysinfo has no source for (pressure stall information, RAPL, cpufreq policies, disk
//! utilisation and queue depth) is unavailable with that reason, never a guess. GPUs come from
//! NVML in either backend.

mod cpu;
mod disks;
mod memory;
mod network;
mod processes;
mod sensors;

use steward_core::{Reading, Snapshot};

use crate::{Collector, Cost};

/// The portable collectors; `top_n` processes per ranking when `processes` is on.
pub fn collectors(top_n: usize, processes: bool) -> Vec<Box<dyn Collector>> {
    let mut cs: Vec<Box<dyn Collector>> = vec![
        Box::new(cpu::PortableCpu::new()),
        Box::new(memory::PortableMemory::new()),
        Box::new(disks::PortableDisks::new()),
        Box::new(network::PortableNetwork::new()),
        Box::new(sensors::PortableSensors::new()),
        Box::new(NoSource),
    ];
    if processes {
        cs.push(Box::new(processes::PortableProcesses::new(top_n)));
    }
    cs
}

/// A sysinfo source that could not be opened, as a reason.
fn unopened(what: &str, e: sysinfo::Error) -> String {
    format!("{what} unavailable (sysinfo): {e}")
}

/// Says once what the portable backend has no source for.
struct NoSource;

impl Collector for NoSource {
    fn name(&self) -> &'static str {
        "portable-unsupported"
    }
    fn cost(&self) -> Cost {
        Cost::Expensive
    }
    fn collect(&mut self, _now_ms: i64, snap: &mut Snapshot) {
        let why = |what: &str| format!("{what} is not available with the portable telemetry backend (sysinfo)");
        snap.pressure = Reading::unavailable(why("pressure stall information"));
        snap.rapl = Reading::unavailable(why("RAPL energy"));
        snap.cpufreq = Reading::unavailable(why("cpufreq policies"));
    }
}
