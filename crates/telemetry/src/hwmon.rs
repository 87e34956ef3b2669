//! Temperatures from `/sys/class/hwmon/hwmon*/temp*_input` (millidegrees Celsius), named
//! `chip/label` from the chip's `name` and the sensor's `temp*_label`.

use std::path::PathBuf;

use steward_core::{Reading, Snapshot, Temperature};

use crate::sysfs::{list_prefixed, read_i64, read_trimmed, under};
use crate::{Collector, Cost, TelemetryError};

/// Kernel drivers report "no limit" with absurd values (e.g. nvme's 65261.85 °C); drop those.
fn plausible_limit(c: f64) -> Option<f64> {
    (-50.0..=250.0).contains(&c).then_some(c)
}

pub struct HwmonCollector {
    root: PathBuf,
}

impl HwmonCollector {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        HwmonCollector { root: root.into() }
    }

    pub fn sample(&self) -> Result<Vec<Temperature>, TelemetryError> {
        let base = under(&self.root, "/sys/class/hwmon");
        let chips = list_prefixed(&base, "hwmon").map_err(|e| match e {
            TelemetryError::Missing { path } => TelemetryError::Missing { path },
            e => e,
        })?;
        let mut out = Vec::new();
        for chip in chips {
            let dir = base.join(&chip);
            let name = read_trimmed(&dir.join("name")).unwrap_or_else(|_| chip.clone());
            let Ok(files) = list_prefixed(&dir, "temp") else { continue };
            for f in files.iter().filter(|f| f.ends_with("_input")) {
                let stem = f.trim_end_matches("_input");
                // Unreadable or garbage sensors (a sleeping device returns EIO) are skipped, not zeroed.
                let Ok(milli) = read_i64(&dir.join(f)) else { continue };
                let label = read_trimmed(&dir.join(format!("{stem}_label"))).unwrap_or_else(|_| stem.to_string());
                let limit = |suffix: &str| {
                    read_i64(&dir.join(format!("{stem}_{suffix}")))
                        .ok()
                        .and_then(|v| plausible_limit(v as f64 / 1000.0))
                };
                out.push(Temperature {
                    sensor: format!("{name}/{label}"),
                    celsius: milli as f64 / 1000.0,
                    max_celsius: limit("max"),
                    critical_celsius: limit("crit"),
                });
            }
        }
        Ok(out)
    }
}

impl Collector for HwmonCollector {
    fn name(&self) -> &'static str {
        "temperatures"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, _now_ms: i64, snap: &mut Snapshot) {
        snap.temperatures = match self.sample() {
            Ok(v) if v.is_empty() => Reading::unavailable("no temperature sensors in /sys/class/hwmon on this machine"),
            Ok(v) => Reading::from(v),
            Err(TelemetryError::Missing { .. }) => Reading::unavailable("no /sys/class/hwmon on this machine"),
            Err(e) => Reading::unavailable(e.to_string()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysfs::tests_support::fixture;

    fn t(sensor: &str, c: f64, max: Option<f64>, crit: Option<f64>) -> Temperature {
        Temperature { sensor: sensor.into(), celsius: c, max_celsius: max, critical_celsius: crit }
    }

    #[test]
    fn reads_chips_labels_and_limits() {
        let v = HwmonCollector::new(fixture("x86_64_a")).sample().unwrap();
        assert_eq!(
            v,
            vec![
                t("acpitz/temp1", 27.8, None, Some(119.0)),
                t("coretemp/Package id 0", 62.0, Some(100.0), Some(100.0)),
                t("coretemp/Core 0", 58.0, Some(100.0), Some(100.0)),
                t("coretemp/Core 1", 61.0, Some(100.0), Some(100.0)),
                t("nvme/Composite", 38.85, Some(81.85), Some(84.85)),
                t("nvme/Sensor 1", 38.85, None, None),
                // iwlwifi_1 reads garbage and is skipped.
            ]
        );
    }

    #[test]
    fn no_hwmon_is_unavailable() {
        let mut snap = Snapshot::empty(0);
        HwmonCollector::new(fixture("vm_a")).collect(0, &mut snap);
        assert_eq!(snap.temperatures.reason(), Some("no /sys/class/hwmon on this machine"));
    }
}
