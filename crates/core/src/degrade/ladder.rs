//! Shedding order: sheddable modules before `normal` before `high` (critical never), and within
//! a module its least important feature first. Steps expand into concrete changes here, against
//! what is already commanded, so a step never repeats what is in force.

use std::collections::BTreeMap;

use super::commanded::{Commanded, DegradeChange, ModuleView};
use super::overrides::ModuleOverride;
use super::policy::{PolicyStep, StepAction, StepTarget};
use crate::alloc::Qos;
use crate::registration::Criticality;

/// Position in shedding order: lower is shed first.
pub fn shed_rank(c: Criticality) -> u8 {
    match c {
        Criticality::Sheddable => 0,
        Criticality::Normal => 1,
        Criticality::High => 2,
        Criticality::Critical => 3,
    }
}

/// Modules a policy may act on, in shedding order, once per name: not critical, not exempt, not
/// lost.
pub fn sheddable<'a>(modules: &'a [ModuleView], overrides: &BTreeMap<String, ModuleOverride>) -> Vec<&'a ModuleView> {
    let mut out: Vec<&ModuleView> = modules
        .iter()
        .filter(|m| !m.protected() && !m.lost && !overrides.get(&m.name).is_some_and(|o| o.exempt))
        .collect();
    out.sort_by(|a, b| shed_rank(a.criticality).cmp(&shed_rank(b.criticality)).then(a.name.cmp(&b.name)));
    // Changes name a module, and every instance of that name (one per node) follows them:
    // expanding each instance would take the step twice.
    out.dedup_by(|a, b| a.name == b.name);
    out
}

/// What applying `step` changes now, given the commanded states (which it updates).
pub fn expand(
    step: &PolicyStep,
    modules: &[ModuleView],
    overrides: &BTreeMap<String, ModuleOverride>,
    commanded: &mut BTreeMap<String, Commanded>,
) -> Vec<DegradeChange> {
    let mut out = Vec::new();
    for m in sheddable(modules, overrides).into_iter().filter(|m| step.target.matches(m)) {
        let now = commanded.entry(m.name.clone()).or_default();
        let changes = match step.action {
            StepAction::LowerQuality => lower(m, now, step.amount.unwrap_or(1)).into_iter().collect(),
            StepAction::DisableFeatures => disable(m, now, overrides.get(&m.name), step.amount.unwrap_or(u32::MAX)),
            StepAction::Pause => {
                (!now.paused).then(|| DegradeChange::Pause { module: m.name.clone() }).into_iter().collect()
            }
            // Target no module (`expand_shared` takes them).
            StepAction::SuspendAllocations | StepAction::LowerSampling => vec![],
        };
        for c in &changes {
            apply(now, c, m);
        }
        out.extend(changes);
    }
    out
}

/// The single next change a controller takes: the first thing left to shed in shedding order.
pub fn next_notch(
    modules: &[ModuleView],
    overrides: &BTreeMap<String, ModuleOverride>,
    commanded: &BTreeMap<String, Commanded>,
) -> Option<DegradeChange> {
    let full = Commanded::default();
    sheddable(modules, overrides).into_iter().find_map(|m| {
        let now = commanded.get(&m.name).unwrap_or(&full);
        disable(m, now, overrides.get(&m.name), 1).into_iter().next().or_else(|| lower(m, now, 1))
    })
}

fn lower(m: &ModuleView, now: &Commanded, amount: u32) -> Option<DegradeChange> {
    let levels = amount.min(m.minimal_level.saturating_sub(now.level));
    (levels > 0).then(|| DegradeChange::LowerQuality { module: m.name.clone(), levels })
}

fn disable(m: &ModuleView, now: &Commanded, over: Option<&ModuleOverride>, amount: u32) -> Vec<DegradeChange> {
    let mut on: Vec<_> = m
        .features
        .iter()
        .filter(|f| !now.disabled.contains(&f.name))
        .filter(|f| !over.is_some_and(|o| o.pinned_features.contains(&f.name)))
        .collect();
    on.sort_by(|a, b| b.rank.cmp(&a.rank).then(a.name.cmp(&b.name)));
    on.into_iter()
        .take(amount as usize)
        .map(|f| DegradeChange::DisableFeature { module: m.name.clone(), feature: f.name.clone() })
        .collect()
}

fn apply(c: &mut Commanded, change: &DegradeChange, m: &ModuleView) {
    match change {
        DegradeChange::LowerQuality { levels, .. } => c.level = (c.level + levels).min(m.minimal_level),
        DegradeChange::DisableFeature { feature, .. } => {
            c.disabled.insert(feature.clone());
        }
        DegradeChange::Pause { .. } => c.paused = true,
        DegradeChange::SuspendAllocations { .. } | DegradeChange::LowerSampling => {}
    }
}

/// What a step on allocations or the sampler changes now, given what is in force (which it
/// updates): nothing when its change already is, and never a hold on guaranteed QoS.
pub fn expand_shared(step: &PolicyStep, in_force: &mut Vec<DegradeChange>) -> Option<DegradeChange> {
    let change = match (step.action, &step.target) {
        (StepAction::SuspendAllocations, StepTarget::Qos(qos)) if *qos != Qos::Guaranteed => {
            DegradeChange::SuspendAllocations { qos: *qos }
        }
        (StepAction::LowerSampling, _) => DegradeChange::LowerSampling,
        _ => return None,
    };
    (!in_force.contains(&change)).then(|| {
        in_force.push(change.clone());
        change
    })
}
