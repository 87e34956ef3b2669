//! Energy counters from powercap (`/sys/class/powercap/intel-rapl:*`, also used by AMD's RAPL
//! driver), including nested subzones such as `intel-rapl:0:0`. Power is the counter delta over
//! time, unwrapping at `max_energy_range_uj`.

use std::collections::HashMap;
use std::path::PathBuf;

use steward_core::{RaplDomain, Reading, Snapshot};

use crate::sysfs::{list_prefixed, read_trimmed, read_u64, under};
use crate::{Collector, Cost, TelemetryError};

/// Energy consumed between two counter readings, allowing one wraparound at `max_uj`.
pub fn energy_delta_uj(prev: u64, now: u64, max_uj: u64) -> Option<u64> {
    if now >= prev {
        Some(now - prev)
    } else if max_uj > 0 && prev <= max_uj {
        Some(max_uj - prev + now)
    } else {
        None
    }
}

pub struct RaplCollector {
    root: PathBuf,
    prev: HashMap<String, (u64, i64)>,
}

impl RaplCollector {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RaplCollector { root: root.into(), prev: HashMap::new() }
    }

    fn sample(&mut self, now_ms: i64) -> Result<Vec<RaplDomain>, TelemetryError> {
        let base = under(&self.root, "/sys/class/powercap");
        // Zones with an id ("intel-rapl:0", "amd-rapl:0:1"); the bare "intel-rapl" is the control type.
        let zones: Vec<String> = list_prefixed(&base, "")?.into_iter().filter(|z| z.contains(':')).collect();
        if zones.is_empty() {
            return Err(TelemetryError::Missing { path: base.join("intel-rapl:*") });
        }
        let mut out = Vec::with_capacity(zones.len());
        for zone in zones {
            let dir = base.join(&zone);
            let energy = read_u64(&dir.join("energy_uj"))?;
            let max = read_u64(&dir.join("max_energy_range_uj"))?;
            let name = read_trimmed(&dir.join("name")).unwrap_or_else(|_| zone.clone());
            let power_w = self.prev.get(&zone).and_then(|&(pe, pt)| {
                let dt = now_ms - pt;
                (dt > 0).then_some(())?;
                Some(energy_delta_uj(pe, energy, max)? as f64 / 1e6 / (dt as f64 / 1000.0))
            });
            self.prev.insert(zone.clone(), (energy, now_ms));
            out.push(RaplDomain { zone, name, energy_j: energy as f64 / 1e6, max_energy_j: max as f64 / 1e6, power_w });
        }
        Ok(out)
    }
}

impl Collector for RaplCollector {
    fn name(&self) -> &'static str {
        "rapl"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot) {
        snap.rapl = match self.sample(now_ms) {
            Ok(v) => Reading::from(v),
            Err(TelemetryError::Missing { path }) if path.ends_with("powercap") => {
                Reading::unavailable("no /sys/class/powercap on this machine")
            }
            Err(TelemetryError::Missing { .. }) => {
                Reading::unavailable("no RAPL zones in /sys/class/powercap on this machine")
            }
            Err(TelemetryError::PermissionDenied { path }) => Reading::unavailable(format!(
                "RAPL {} is readable only by root on this kernel (permission denied)",
                path.display()
            )),
            Err(e) => Reading::unavailable(e.to_string()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::tests::copy_dir;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn wraparound() {
        assert_eq!(energy_delta_uj(100, 250, 1000), Some(150));
        assert_eq!(energy_delta_uj(900, 100, 1000), Some(200));
        assert_eq!(energy_delta_uj(2000, 100, 1000), None);
    }

    #[test]
    fn zones_energy_and_power() {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture("x86_64_a/sys/class/powercap"), &dir.path().join("sys/class/powercap"));
        let mut c = RaplCollector::new(dir.path());
        let mut snap = Snapshot::empty(0);
        c.collect(10_000, &mut snap);
        let v = snap.rapl.value().unwrap().clone();
        let zones: Vec<(&str, &str)> = v.iter().map(|d| (d.zone.as_str(), d.name.as_str())).collect();
        assert_eq!(
            zones,
            vec![
                ("intel-rapl:0", "package-0"),
                ("intel-rapl:0:0", "core"),
                ("intel-rapl:0:1", "uncore"),
                ("intel-rapl:0:2", "dram"),
                ("intel-rapl:1", "psys")
            ]
        );
        assert_eq!(v[0].energy_j, 27936.105738);
        assert_eq!(v[0].max_energy_j, 262143.32885);
        assert!(v.iter().all(|d| d.power_w.is_none()));

        // 500 ms later the package used 7.5 J (15 W); psys wrapped around its range.
        let pkg = dir.path().join("sys/class/powercap/intel-rapl:0/energy_uj");
        std::fs::write(&pkg, (27936105738u64 + 7_500_000).to_string()).unwrap();
        let psys = dir.path().join("sys/class/powercap/intel-rapl:1/energy_uj");
        std::fs::write(&psys, "1000000").unwrap();
        c.collect(10_500, &mut snap);
        let v = snap.rapl.value().unwrap().clone();
        assert_eq!(v[0].power_w, Some(15.0));
        assert_eq!(v[1].power_w, Some(0.0));
        let expected_psys = (262143328850u64 - 61221003111 + 1000000) as f64 / 1e6 / 0.5;
        assert_eq!(v[4].power_w, Some(expected_psys));
    }

    #[test]
    fn absent_or_root_only() {
        let mut snap = Snapshot::empty(0);
        RaplCollector::new(fixture("vm_a")).collect(0, &mut snap);
        assert_eq!(snap.rapl.reason(), Some("no /sys/class/powercap on this machine"));

        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture("x86_64_a/sys/class/powercap"), &dir.path().join("sys/class/powercap"));
        let pkg = dir.path().join("sys/class/powercap/intel-rapl:0/energy_uj");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pkg, std::fs::Permissions::from_mode(0o400)).unwrap();
        if std::fs::read(&pkg).is_err() {
            // Not running as root: same situation as kernels >= 5.10 (CVE-2020-8694 fix).
            RaplCollector::new(dir.path()).collect(0, &mut snap);
            let r = snap.rapl.reason().unwrap();
            assert!(r.contains("only by root") && r.contains("energy_uj"), "{r}");
        }
    }
}
