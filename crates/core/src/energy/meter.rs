//! One node's energy sources, read from its snapshot and integrated into cumulative joules.
//!
//! Counters (RAPL, NVML's total energy, hwmon `energy*_input`) are differenced, unwrapping at
//! their range; sources with power only are integrated over time (trapezoids). The CPU is
//! modelled only where no RAPL package can be read.

use std::collections::HashMap;

use super::model::CpuModel;
use super::source::{EnergySource, NodeEnergy, PowerSensorKind, Provenance, SourceKind, counted_in_total};
use crate::{Reading, Snapshot};

/// What one snapshot says about one source, before integration.
struct Observation {
    id: String,
    kind: SourceKind,
    label: String,
    power_w: Reading<f64>,
    /// (counter in joules, where it wraps — 0 for never).
    counter: Option<(f64, f64)>,
    provenance: Provenance,
    in_total: bool,
}

#[derive(Debug, Clone, Copy)]
struct Track {
    at_ms: i64,
    power_w: Option<f64>,
    counter: Option<(f64, f64)>,
    cumulative_j: f64,
}

/// The integrating state of one node.
#[derive(Debug)]
pub struct Meter {
    cpu_model: Result<CpuModel, String>,
    since_ms: Option<i64>,
    tracks: HashMap<String, Track>,
}

impl Meter {
    /// `cpu_model` is used only where the node has no readable RAPL package.
    pub fn new(cpu_model: Result<CpuModel, String>) -> Meter {
        Meter { cpu_model, since_ms: None, tracks: HashMap::new() }
    }

    /// The node's sources as of `snap`, taken at `now`, with joules since the first sample.
    pub fn step(&mut self, now: i64, snap: &Snapshot) -> NodeEnergy {
        let since_ms = *self.since_ms.get_or_insert(now);
        let sources: Vec<EnergySource> = observe(snap, &self.cpu_model)
            .into_iter()
            .map(|o| {
                let energy_j = self.integrate(&o, now);
                EnergySource {
                    id: o.id,
                    kind: o.kind,
                    label: o.label,
                    power_w: o.power_w,
                    energy_j,
                    provenance: o.provenance,
                    in_total: o.in_total,
                }
            })
            .collect();
        let (total_w, total_provenance, left_out) = total(&sources);
        NodeEnergy { since_ms, sources, total_w, total_provenance, left_out }
    }

    fn integrate(&mut self, o: &Observation, now: i64) -> Option<f64> {
        let power = o.power_w.value().copied();
        if power.is_none() && o.counter.is_none() {
            return self.tracks.get(&o.id).map(|t| t.cumulative_j);
        }
        let next = match self.tracks.get(&o.id) {
            None => Track { at_ms: now, power_w: power, counter: o.counter, cumulative_j: 0.0 },
            Some(prev) => {
                let dt_s = (now - prev.at_ms).max(0) as f64 / 1000.0;
                let by_counter = match (prev.counter, o.counter) {
                    (Some((was, _)), Some((is, wrap))) => counter_delta(was, is, wrap),
                    _ => None,
                };
                let by_power = match (prev.power_w, power) {
                    (Some(a), Some(b)) => Some((a + b) / 2.0 * dt_s),
                    (None, Some(b)) => Some(b * dt_s),
                    _ => None,
                };
                let added = by_counter.or(by_power).unwrap_or(0.0);
                Track { at_ms: now, power_w: power, counter: o.counter, cumulative_j: prev.cumulative_j + added }
            }
        };
        self.tracks.insert(o.id.clone(), next);
        Some(next.cumulative_j)
    }
}

/// Joules between two counter readings, allowing one wrap at `wrap` (0: the counter never
/// wraps, so going back means it was reset and the delta is unknown).
pub fn counter_delta(was: f64, is: f64, wrap: f64) -> Option<f64> {
    if is >= was {
        Some(is - was)
    } else if wrap > 0.0 && was <= wrap {
        Some(wrap - was + is)
    } else {
        None
    }
}

fn observe(snap: &Snapshot, cpu_model: &Result<CpuModel, String>) -> Vec<Observation> {
    let mut out = Vec::new();
    let rapl = snap.rapl.value().map(Vec::as_slice).unwrap_or_default();
    let mut has_package = false;
    for d in rapl {
        let (kind, id) = match d.name.as_str() {
            n if n.starts_with("package") => (SourceKind::Cpu, format!("cpu.{n}")),
            "dram" => (SourceKind::Dram, format!("dram.{}", d.zone)),
            "psys" => (SourceKind::Sensor, "psys".to_string()),
            // core/uncore/gpu subzones are inside their package: counting them would count twice.
            _ => continue,
        };
        has_package |= kind == SourceKind::Cpu;
        out.push(Observation {
            kind,
            label: format!("RAPL {} ({})", d.name, d.zone),
            power_w: d.power_w.map_or_else(|| Reading::unavailable("needs two samples"), Reading::from),
            counter: Some((d.energy_j, d.max_energy_j)),
            provenance: Provenance::Measured { meter: "RAPL".into() },
            in_total: counted_in_total(&id),
            id,
        });
    }
    if !has_package {
        out.push(modelled_cpu(snap, cpu_model));
    }
    match &snap.gpus {
        Reading::Available { value } => {
            for g in value {
                out.push(Observation {
                    id: format!("gpu.{}", g.index),
                    kind: SourceKind::Gpu,
                    label: format!("GPU {} ({})", g.index, g.name),
                    power_w: g.power_w.clone(),
                    counter: g.energy_j.value().map(|j| (*j, 0.0)),
                    provenance: Provenance::Measured { meter: "NVML".into() },
                    in_total: true,
                });
            }
        }
        Reading::Unavailable { .. } => {}
    }
    for s in snap.power_sensors.value().into_iter().flatten() {
        out.push(Observation {
            id: s.id.clone(),
            kind: match s.kind {
                PowerSensorKind::Hwmon => SourceKind::Sensor,
                PowerSensorKind::Battery => SourceKind::Battery,
            },
            label: s.label.clone(),
            power_w: s.power_w.clone(),
            counter: s.energy_j.map(|j| (j, 0.0)),
            provenance: Provenance::Measured { meter: s.id.clone() },
            in_total: counted_in_total(&s.id),
        });
    }
    out
}

fn modelled_cpu(snap: &Snapshot, cpu_model: &Result<CpuModel, String>) -> Observation {
    let no_meter = snap.rapl.reason().unwrap_or("no RAPL package zone");
    let (power_w, assumptions) = match (cpu_model, snap.cpu.value()) {
        (Ok(m), Some(cpu)) => (Reading::from(m.power_w(cpu.total_pct)), m.assumptions()),
        (Ok(m), None) => (
            Reading::unavailable(format!("no CPU utilization to model from: {}", snap.cpu.reason().unwrap_or(""))),
            m.assumptions(),
        ),
        (Err(why), _) => {
            (Reading::unavailable(format!("no CPU power meter ({no_meter}) and no model: {why}")), why.clone())
        }
    };
    Observation {
        id: "cpu.model".into(),
        kind: SourceKind::Cpu,
        label: "CPU (modelled)".into(),
        power_w,
        counter: None,
        provenance: Provenance::Modelled { assumptions },
        in_total: true,
    }
}

/// The node total over the sources counted in it, its provenance, and what it leaves out.
fn total(sources: &[EnergySource]) -> (Reading<f64>, Provenance, Vec<String>) {
    let counted: Vec<&EnergySource> = sources.iter().filter(|s| s.in_total).collect();
    let left_out: Vec<String> =
        counted.iter().filter_map(|s| s.power_w.reason().map(|why| format!("{}: {why}", s.id))).collect();
    let known: Vec<(&EnergySource, f64)> = counted.iter().filter_map(|s| s.power_w.value().map(|w| (*s, *w))).collect();
    // The provenance of what is summed; with nothing summed, of what would have been.
    let basis: Vec<&EnergySource> =
        if known.is_empty() { counted.clone() } else { known.iter().map(|(s, _)| *s).collect() };
    let modelled: Vec<String> = basis
        .iter()
        .filter_map(|s| match &s.provenance {
            Provenance::Modelled { assumptions } => Some(format!("{}: {assumptions}", s.id)),
            _ => None,
        })
        .collect();
    let provenance = if modelled.is_empty() {
        let mut meters: Vec<String> = known
            .iter()
            .filter_map(|(s, _)| match &s.provenance {
                Provenance::Measured { meter } => Some(meter.clone()),
                _ => None,
            })
            .collect();
        meters.dedup();
        Provenance::Measured { meter: meters.join(" + ") }
    } else {
        Provenance::Modelled { assumptions: modelled.join("; ") }
    };
    let total_w = if known.is_empty() {
        Reading::unavailable(if left_out.is_empty() {
            "no power source on this node".into()
        } else {
            left_out.join("; ")
        })
    } else {
        Reading::from(known.iter().map(|(_, w)| w).fold(0.0, |a, b| a + b))
    };
    (total_w, provenance, left_out)
}

#[cfg(test)]
mod tests;
