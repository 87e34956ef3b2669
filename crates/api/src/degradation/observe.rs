//! What the detector and the engine are fed: measurements from the latest snapshot and the
//! cluster, and registered modules as the engine sees them.

use std::collections::BTreeSet;

use steward_core::Snapshot;
use steward_core::cluster::NodeHealth;
use steward_core::degrade::detect::{MemoryUse, PowerUse};
use steward_core::degrade::{ModuleView, Observation};
use steward_core::energy::Provenance;
use steward_core::module_status::{ModuleState, ModuleStatus};
use steward_core::profile::module::usage;

use super::settings::DegradationSettings;
use crate::cluster::Cluster;
use crate::profile::Profiling;

/// Registered modules as the engine sees them: lost and deregistered ones are sent nothing.
pub(crate) fn module_views(statuses: &[ModuleStatus]) -> Vec<ModuleView> {
    statuses
        .iter()
        .filter(|s| s.state != ModuleState::Deregistered)
        .map(|s| {
            let mut v = ModuleView::from_registration(&s.node, &s.registration, s.state != ModuleState::Active);
            v.memory_bytes = s.report.as_ref().and_then(|r| r.memory_bytes);
            v.reported_level = s.report.as_ref().map(|r| r.quality_level);
            v.latency_ms = s.report.as_ref().and_then(|r| r.latency_ms);
            v
        })
        .collect()
}

/// Memory against the budget: the node's used memory, or the RSS of the configured modules'
/// processes; `Err` says why it is unknown.
pub(crate) fn memory_use(profiling: &Profiling, snap: &Snapshot, s: &DegradationSettings) -> Result<MemoryUse, String> {
    let mem = snap.memory.value().ok_or("memory is not measured on this node")?;
    let budget_bytes = s.memory_budget_bytes.unwrap_or(mem.total_bytes);
    if s.budget_modules.is_empty() {
        return Ok(MemoryUse { used_bytes: mem.used_bytes, budget_bytes, what: "node memory used".into() });
    }
    let specs = profiling.modules();
    let mut used = 0;
    for name in &s.budget_modules {
        let spec = specs.iter().find(|m| &m.name == name).ok_or(format!("budget module {name} is not defined"))?;
        let rss = usage(spec, snap).rss_bytes;
        used += rss.value().copied().ok_or_else(|| format!("RSS of {name}: {}", rss.reason().unwrap_or("unknown")))?;
    }
    Ok(MemoryUse { used_bytes: used, budget_bytes, what: format!("RSS of {}", s.budget_modules.join(", ")) })
}

/// This node's draw against its budget: the energy monitor's total (CPU packages, DRAM, GPUs),
/// saying whether it is measured or modelled; `None` while the total is unavailable.
pub(crate) fn power_use(snap: &Snapshot, budget_watts: f64) -> Option<PowerUse> {
    let energy = snap.energy.value()?;
    let watts = *energy.total_w.value()?;
    let what = match &energy.total_provenance {
        Provenance::Modelled { assumptions } => format!("modelled: {assumptions}"),
        p => p.word().to_string(),
    };
    Some(PowerUse { watts, budget_watts, what })
}

/// GPUs seen since start, to tell one gone from one never there.
#[derive(Default)]
pub(crate) struct SeenGpus(BTreeSet<String>);

pub(crate) fn observation(
    profiling: &Profiling,
    cluster: &Cluster,
    snap: &Snapshot,
    s: &DegradationSettings,
    seen: &mut SeenGpus,
) -> Observation {
    let memory = memory_use(profiling, snap, s).ok();
    let mut throttled = Vec::new();
    let mut accelerators_lost = Vec::new();
    match snap.gpus.value() {
        Some(gpus) => {
            for g in gpus {
                seen.0.insert(g.uuid.clone());
                let heat: Vec<String> = g
                    .throttle_reasons
                    .value()
                    .map(|r| r.iter().filter(|x| x.contains("thermal")).cloned().collect())
                    .unwrap_or_default();
                if !heat.is_empty() {
                    throttled.push((format!("gpu.{}", g.index), heat));
                }
            }
            for uuid in seen.0.iter().filter(|u| !gpus.iter().any(|g| &g.uuid == *u)) {
                accelerators_lost.push((uuid.clone(), "no longer reported by the driver".to_string()));
            }
        }
        None if !seen.0.is_empty() => {
            let why = snap.gpus.reason().unwrap_or("GPUs unreadable").to_string();
            accelerators_lost.extend(seen.0.iter().map(|u| (u.clone(), why.clone())));
        }
        None => {}
    }
    for t in snap.temperatures.value().into_iter().flatten() {
        if t.max_celsius.is_some_and(|max| t.celsius >= max) {
            throttled.push((t.sensor.clone(), vec![format!("{:.0} °C, at its maximum", t.celsius)]));
        }
    }
    let nodes_lost = cluster
        .node_states()
        .into_iter()
        .filter(|(_, state, _)| *state == NodeHealth::Down)
        .map(|(id, _, _)| (id, "its agent is down".to_string()))
        .collect();
    Observation {
        ts_ms: snap.ts_ms,
        memory,
        cpu_pct: snap.cpu.value().map(|c| c.total_pct),
        power: s.power_budget_w.and_then(|budget| power_use(snap, budget)),
        throttled,
        nodes_lost,
        accelerators_lost,
    }
}

#[cfg(test)]
mod tests {
    use steward_core::Reading;
    use steward_core::energy::NodeEnergy;

    use super::*;

    fn with_total(total_w: Reading<f64>, total_provenance: Provenance) -> Snapshot {
        let mut snap = Snapshot::empty(0);
        snap.energy =
            Reading::from(NodeEnergy { since_ms: 0, sources: vec![], total_w, total_provenance, left_out: vec![] });
        snap
    }

    #[test]
    fn the_power_judged_is_the_monitors_total_with_its_provenance() {
        let measured = with_total(Reading::from(180.0), Provenance::Measured { meter: "RAPL".into() });
        let p = power_use(&measured, 150.0).unwrap();
        assert_eq!((p.watts, p.budget_watts, p.what.as_str()), (180.0, 150.0, "measured"));
        let modelled = with_total(Reading::from(90.0), Provenance::Modelled { assumptions: "TDP 65 W".into() });
        assert_eq!(power_use(&modelled, 150.0).unwrap().what, "modelled: TDP 65 W");
        let none = with_total(Reading::unavailable("no sensor"), Provenance::Modelled { assumptions: String::new() });
        assert!(power_use(&none, 150.0).is_none(), "an unavailable total raises nothing");
        assert!(power_use(&Snapshot::empty(0), 150.0).is_none());
    }
}
