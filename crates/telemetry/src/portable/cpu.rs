//! CPU busy share (total and per core), load averages and core frequencies from sysinfo.

use steward_core::{CpuStats, Reading, Snapshot};
use sysinfo::{CpuRefreshKind, System};

use crate::{Collector, Cost};

pub struct PortableCpu {
    system: Result<System, String>,
    primed: bool,
}

impl PortableCpu {
    pub fn new() -> Self {
        PortableCpu { system: System::new().map_err(|e| super::unopened("CPU", e)), primed: false }
    }

    fn sample(&mut self) -> Reading<CpuStats> {
        let system = match &mut self.system {
            Ok(s) => s,
            Err(why) => return Reading::unavailable(why.clone()),
        };
        system.refresh_cpu_specifics(CpuRefreshKind::nothing().with_usage().with_frequency());
        if !std::mem::replace(&mut self.primed, true) {
            return Reading::unavailable("CPU usage needs two samples; it appears with the next one");
        }
        let cpus = system.cpus();
        let frequency_mhz = if cpus.iter().all(|c| c.frequency() > 0) {
            Reading::from(cpus.iter().map(|c| c.frequency()).collect::<Vec<_>>())
        } else {
            Reading::unavailable("sysinfo reports no core frequency on this system")
        };
        let load_avg = match System::load_average() {
            Ok(l) => [l.one, l.five, l.fifteen],
            Err(e) => return Reading::unavailable(super::unopened("load average", e)),
        };
        Reading::from(CpuStats {
            total_pct: f64::from(system.global_cpu_usage()).clamp(0.0, 100.0),
            per_core_pct: cpus.iter().map(|c| f64::from(c.usage()).clamp(0.0, 100.0)).collect(),
            load_avg,
            frequency_mhz,
        })
    }
}

impl Collector for PortableCpu {
    fn name(&self) -> &'static str {
        "cpu"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, _now_ms: i64, snap: &mut Snapshot) {
        snap.cpu = self.sample();
    }
}
