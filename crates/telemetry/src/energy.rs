//! The node's energy by source (`steward_core::energy::Meter`), from what the other collectors
//! put in the snapshot: it runs last, reads nothing itself, and keeps the integrating state.

use std::path::Path;

use steward_core::energy::meter::Meter;
use steward_core::energy::model::CpuModel;
use steward_core::{Reading, Snapshot};

use crate::inventory::parse_cpuinfo;
use crate::sysfs::{read_string, under};
use crate::{Collector, Cost};

pub struct EnergyCollector {
    meter: Meter,
}

impl EnergyCollector {
    /// The CPU model (for nodes without RAPL) from `/proc/cpuinfo` and `cpu_tdp_w` if configured.
    pub fn new(root: &Path, cpu_tdp_w: Option<u32>) -> Self {
        let cpuinfo = read_string(&under(root, "/proc/cpuinfo")).unwrap_or_default();
        let name = parse_cpuinfo(&cpuinfo).0.unwrap_or_default();
        EnergyCollector { meter: Meter::new(CpuModel::for_cpu(&name, cpu_tdp_w.map(f64::from))) }
    }
}

impl Collector for EnergyCollector {
    fn name(&self) -> &'static str {
        "energy"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot) {
        snap.energy = Reading::from(self.meter.step(now_ms, snap));
    }
}

#[cfg(test)]
mod tests {
    use steward_core::energy::Provenance;

    use super::*;
    use crate::network::tests::copy_dir;
    use crate::rapl::RaplCollector;
    use crate::sampler::Sampler;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn rapl_packages_are_measured_joules() {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture("x86_64_a"), dir.path());
        let mut s = Sampler::with_collectors(vec![
            Box::new(RaplCollector::new(dir.path())),
            Box::new(EnergyCollector::new(dir.path(), None)),
        ]);
        s.tick(10_000);
        let pkg = dir.path().join("sys/class/powercap/intel-rapl:0/energy_uj");
        std::fs::write(&pkg, (27936105738u64 + 7_500_000).to_string()).unwrap();
        let snap = s.tick(11_000);
        let e = snap.energy.value().unwrap();
        let p = e.sources.iter().find(|s| s.id == "cpu.package-0").unwrap();
        assert_eq!((p.power_w.value(), p.energy_j), (Some(&7.5), Some(7.5)));
        assert_eq!(p.provenance, Provenance::Measured { meter: "RAPL".into() });
        assert!(!e.sources.iter().any(|s| s.id == "cpu.model"), "a meter, so no model");
    }

    #[test]
    fn a_vm_without_meter_or_tdp_says_so_and_a_configured_tdp_models_it() {
        let mut snap = Snapshot::empty(0);
        snap.cpu = Reading::from(steward_core::CpuStats {
            total_pct: 50.0,
            per_core_pct: vec![50.0],
            load_avg: [0.0; 3],
            frequency_mhz: Reading::unavailable("n/a"),
        });
        RaplCollector::new(fixture("vm_a")).collect(0, &mut snap);
        EnergyCollector::new(&fixture("vm_a"), None).collect(0, &mut snap);
        let why = snap.energy.value().unwrap().total_w.reason().unwrap().to_string();
        assert!(why.contains("no /sys/class/powercap") && why.contains("cpu_tdp_w"), "{why}");

        EnergyCollector::new(&fixture("vm_a"), Some(65)).collect(1_000, &mut snap);
        let e = snap.energy.value().unwrap();
        let Provenance::Modelled { assumptions } = &e.total_provenance else { panic!("{e:?}") };
        assert!(assumptions.contains("TDP 65 W (configured)"), "{assumptions}");
        assert_eq!(e.total_w, Reading::from(65.0 * 0.3 + 65.0 * 0.7 * 0.5));
    }
}
