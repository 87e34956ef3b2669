//! Who draws the power: processes get the CPU power times their share of busy CPU time, and
//! each GPU's power times their share of its SM utilization (NVML per-process samples);
//! modules add up their processes. Every part is `attributed`, naming what it is a share of.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::source::{NodeEnergy, Provenance, SourceKind};
use crate::{Reading, Snapshot};

/// One consumer's power: the sum of its attributed parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConsumerPower {
    /// A pid, or a module's name.
    pub id: String,
    pub name: String,
    pub power_w: f64,
    pub parts: Vec<PowerShare>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PowerShare {
    /// The energy source this is a share of, e.g. `cpu.package-0` or `gpu.0`.
    pub source: String,
    pub watts: f64,
    pub provenance: Provenance,
}

/// The processes the sampler tracks, busiest first; unavailable without a process table.
pub fn processes(snap: &Snapshot, energy: &NodeEnergy) -> Reading<Vec<ConsumerPower>> {
    let Some(table) = snap.processes.value() else {
        return Reading::unavailable(snap.processes.reason().unwrap_or("no process table").to_string());
    };
    let cpu_sources: Vec<(&str, f64, &Provenance)> = energy
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Cpu)
        .filter_map(|s| s.power_w.value().map(|w| (s.id.as_str(), *w, &s.provenance)))
        .collect();
    let busy_core_pct = snap.cpu.value().map(|c| c.total_pct * c.per_core_pct.len() as f64).unwrap_or(0.0);
    let mut out: Vec<ConsumerPower> = table
        .top
        .iter()
        .map(|p| {
            let mut parts = Vec::new();
            if busy_core_pct > 0.0 {
                let share = (p.cpu_pct / busy_core_pct).clamp(0.0, 1.0);
                for (id, w, from) in &cpu_sources {
                    parts.push(share_of(id, *w, share, "share of busy CPU time", from));
                }
            }
            parts.extend(gpu_parts(snap, energy, p.pid));
            ConsumerPower {
                id: p.pid.to_string(),
                name: p.name.clone(),
                power_w: parts.iter().map(|s| s.watts).fold(0.0, |a, b| a + b),
                parts,
            }
        })
        .filter(|c| c.power_w > 0.0)
        .collect();
    out.sort_by(|a, b| b.power_w.total_cmp(&a.power_w));
    Reading::from(out)
}

/// `pid`'s share of every GPU it runs on: its SM utilization over all processes' on that GPU.
fn gpu_parts(snap: &Snapshot, energy: &NodeEnergy, pid: u32) -> Vec<PowerShare> {
    let mut parts = Vec::new();
    for g in snap.gpus.value().into_iter().flatten() {
        let Some(procs) = g.processes.value() else { continue };
        let sm = |p: &crate::GpuProcess| f64::from(p.sm_utilization_pct.unwrap_or(0));
        let all: f64 = procs.iter().map(sm).sum();
        let mine: f64 = procs.iter().filter(|p| p.pid == pid).map(sm).sum();
        let id = format!("gpu.{}", g.index);
        let source = energy.sources.iter().find(|s| s.id == id);
        if let (true, Some(s)) = (all > 0.0 && mine > 0.0, source)
            && let Some(w) = s.power_w.value()
        {
            parts.push(share_of(&id, *w, mine / all, "share of SM utilization", &s.provenance));
        }
    }
    parts
}

fn share_of(source: &str, watts: f64, share: f64, basis: &str, from: &Provenance) -> PowerShare {
    let of = match from {
        Provenance::Modelled { .. } => format!("{source} (modelled)"),
        _ => source.to_string(),
    };
    PowerShare {
        source: source.to_string(),
        watts: watts * share,
        provenance: Provenance::Attributed { of, share, basis: basis.to_string() },
    }
}

/// A module's power: the sum of its processes' (given as `(name, pids)`).
pub fn modules(modules: &[(String, Vec<u32>)], processes: &[ConsumerPower]) -> Vec<ConsumerPower> {
    modules
        .iter()
        .map(|(name, pids)| {
            let parts: Vec<PowerShare> = processes
                .iter()
                .filter(|p| pids.iter().any(|pid| pid.to_string() == p.id))
                .flat_map(|p| p.parts.iter().cloned())
                .collect();
            ConsumerPower {
                id: name.clone(),
                name: name.clone(),
                power_w: parts.iter().map(|s| s.watts).fold(0.0, |a, b| a + b),
                parts,
            }
        })
        .collect()
}
