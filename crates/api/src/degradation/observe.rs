//! What the detector and the engine are fed: measurements from the latest snapshot and the
//! cluster, and registered modules as the engine sees them.

use std::collections::BTreeSet;

use steward_core::Snapshot;
use steward_core::cluster::NodeHealth;
use steward_core::degrade::detect::MemoryUse;
use steward_core::degrade::{ModuleView, Observation};
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
        // The power budget is fed by the energy work where it measures power; nothing here
        // measures it yet, so no power constraint is raised.
        power: None,
        throttled,
        nodes_lost,
        accelerators_lost,
    }
}
