//! Power sensors outside RAPL and NVML: hwmon `power*_input`/`power*_average` (µW) and
//! `energy*_input` (µJ, power from the counter's delta), and batteries' discharge from
//! `/sys/class/power_supply/*/power_now` (or `current_now × voltage_now`).
//!
//! A sensor that cannot be read is listed as unavailable with the reason, not skipped and never
//! zero; a battery that is charging or full says why its `power_now` is not the draw.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use steward_core::energy::{PowerSensor, PowerSensorKind};
use steward_core::{Reading, Snapshot};

use crate::rapl::energy_delta_uj;
use crate::sysfs::{list_prefixed, read_trimmed, read_u64, under};
use crate::{Collector, Cost, TelemetryError};

pub struct PowerSensorCollector {
    root: PathBuf,
    /// Previous `energy*_input` reading per sensor id: (µJ, at ms).
    prev: HashMap<String, (u64, i64)>,
}

impl PowerSensorCollector {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        PowerSensorCollector { root: root.into(), prev: HashMap::new() }
    }

    pub fn sample(&mut self, now_ms: i64) -> Vec<PowerSensor> {
        let mut out = self.hwmon(now_ms);
        out.extend(batteries(&under(&self.root, "/sys/class/power_supply")));
        out
    }

    fn hwmon(&mut self, now_ms: i64) -> Vec<PowerSensor> {
        let base = under(&self.root, "/sys/class/hwmon");
        let mut out = Vec::new();
        for chip in list_prefixed(&base, "hwmon").unwrap_or_default() {
            let dir = base.join(&chip);
            let name = read_trimmed(&dir.join("name")).unwrap_or_else(|_| chip.clone());
            let files = list_prefixed(&dir, "").unwrap_or_default();
            let label = |stem: &str| read_trimmed(&dir.join(format!("{stem}_label"))).unwrap_or_else(|_| stem.into());
            for f in &files {
                let (stem, power) = if let Some(stem) = f.strip_suffix("_input").filter(|s| s.starts_with("power")) {
                    (stem, true)
                } else if let Some(stem) = f.strip_suffix("_average").filter(|s| s.starts_with("power")) {
                    // power*_average only where the sensor has no power*_input.
                    if files.contains(&format!("{stem}_input")) {
                        continue;
                    }
                    (stem, true)
                } else if let Some(stem) = f.strip_suffix("_input").filter(|s| s.starts_with("energy")) {
                    (stem, false)
                } else {
                    continue;
                };
                let id = format!("hwmon.{name}.{stem}");
                let value = read_u64(&dir.join(f));
                let (power_w, energy_j) = if power {
                    (value.map(|uw| uw as f64 / 1e6).map_err(|e| unreadable(&e)), None)
                } else {
                    self.energy_counter(&id, value, now_ms)
                };
                out.push(PowerSensor {
                    label: format!("{name}/{}", label(stem)),
                    id,
                    kind: PowerSensorKind::Hwmon,
                    power_w: power_w.map_or_else(Reading::unavailable, Reading::from),
                    energy_j,
                });
            }
        }
        out
    }

    /// Power from an energy counter's delta since the last sample (none on the first).
    fn energy_counter(
        &mut self,
        id: &str,
        value: Result<u64, TelemetryError>,
        now_ms: i64,
    ) -> (Result<f64, String>, Option<f64>) {
        let uj = match value {
            Ok(uj) => uj,
            Err(e) => return (Err(unreadable(&e)), None),
        };
        let power = match self.prev.insert(id.to_string(), (uj, now_ms)) {
            Some((was, at)) if now_ms > at => energy_delta_uj(was, uj, 0)
                .map(|d| d as f64 / 1e6 / ((now_ms - at) as f64 / 1000.0))
                .ok_or_else(|| "the energy counter went back (reset); power from the next sample".to_string()),
            _ => Err("needs two samples".to_string()),
        };
        (power, Some(uj as f64 / 1e6))
    }
}

fn unreadable(e: &TelemetryError) -> String {
    match e {
        TelemetryError::PermissionDenied { path } => format!("{} is readable only by root", path.display()),
        e => format!("unreadable: {e}"),
    }
}

/// Every battery under `base`, with its discharge power while discharging.
fn batteries(base: &Path) -> Vec<PowerSensor> {
    let mut out = Vec::new();
    for supply in list_prefixed(base, "").unwrap_or_default() {
        let dir = base.join(&supply);
        if read_trimmed(&dir.join("type")).ok().as_deref() != Some("Battery") {
            continue;
        }
        let status = read_trimmed(&dir.join("status")).unwrap_or_else(|_| "Unknown".into());
        let power_w = if status == "Discharging" {
            discharge_w(&dir)
        } else {
            Err(format!("on external power ({status}): power_now is the charge rate, not the draw"))
        };
        out.push(PowerSensor {
            id: format!("battery.{supply}"),
            label: format!("{supply} ({})", status.to_lowercase()),
            kind: PowerSensorKind::Battery,
            power_w: power_w.map_or_else(Reading::unavailable, Reading::from),
            energy_j: None,
        });
    }
    out
}

fn discharge_w(dir: &Path) -> Result<f64, String> {
    if let Ok(uw) = read_u64(&dir.join("power_now")) {
        return Ok(uw as f64 / 1e6);
    }
    match (read_u64(&dir.join("current_now")), read_u64(&dir.join("voltage_now"))) {
        (Ok(ua), Ok(uv)) => Ok(ua as f64 * uv as f64 / 1e12),
        (Err(e), _) | (_, Err(e)) => Err(format!("no power_now, and current_now × voltage_now {}", unreadable(&e))),
    }
}

impl Collector for PowerSensorCollector {
    fn name(&self) -> &'static str {
        "power_sensors"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot) {
        let sensors = self.sample(now_ms);
        snap.power_sensors = if sensors.is_empty() {
            Reading::unavailable("no power sensors in /sys/class/hwmon and no battery in /sys/class/power_supply")
        } else {
            Reading::from(sensors)
        };
    }
}

#[cfg(test)]
mod tests;
