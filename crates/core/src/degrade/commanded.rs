//! What each module is commanded to run at: full quality, minus the changes in force, with the
//! user's overrides on top. Directives are the difference between two commanded states.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::overrides::ModuleOverride;
use crate::alloc::Qos;
use crate::registration::{Criticality, Directive, Feature, Registration};

/// A registered module as the engine sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ModuleView {
    pub name: String,
    /// The node the module runs on (`local` for the control center's own).
    pub node: String,
    pub criticality: Criticality,
    pub features: Vec<Feature>,
    /// How many quality levels it has (level 0 is full quality).
    pub levels: u32,
    /// The cheapest level it may be directed to.
    pub minimal_level: u32,
    /// Stopped reporting, or its node is gone: sent nothing until it is back.
    pub lost: bool,
    /// Memory each level is expected to cost (as declared), by level.
    #[serde(default)]
    #[ts(type = "(number | null)[]")]
    pub level_memory_bytes: Vec<Option<u64>>,
    /// Memory it last reported using.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub memory_bytes: Option<u64>,
    /// The level it last reported running at.
    #[serde(default)]
    pub reported_level: Option<u32>,
    /// The latency it last reported, in ms.
    #[serde(default)]
    pub latency_ms: Option<f64>,
}

impl ModuleView {
    pub fn from_registration(node: &str, r: &Registration, lost: bool) -> Self {
        let levels = (r.quality_levels.len() as u32).max(1);
        ModuleView {
            name: r.name.clone(),
            node: node.into(),
            criticality: r.criticality,
            features: r.features.clone(),
            levels,
            minimal_level: r.minimal_level.min(levels - 1),
            lost,
            level_memory_bytes: r.quality_levels.iter().map(|l| l.memory_bytes).collect(),
            memory_bytes: None,
            reported_level: None,
            latency_ms: None,
        }
    }

    /// Memory it would use running as `c` says: its report scaled by the declared cost of the
    /// levels (a load that doubled its report doubles the estimate); paused, nothing. A paused
    /// module's report says nothing of its load (`scale` false): the declared cost counts.
    pub fn estimated_memory(&self, c: &Commanded, scale: bool) -> f64 {
        if c.paused {
            return 0.0;
        }
        let declared = |l: u32| self.level_memory_bytes.get(l as usize).copied().flatten().map(|b| b as f64);
        let reported = self.memory_bytes.filter(|_| scale && self.reported_level.is_some()).map(|b| b as f64);
        match (declared(c.level), reported, self.reported_level.and_then(declared)) {
            (Some(want), Some(now), Some(base)) if base > 0.0 && now > 0.0 => want * now / base,
            (Some(want), _, _) => want,
            (None, Some(now), _) => now,
            (None, None, _) => 0.0,
        }
    }

    /// Critical modules are never degraded by the engine.
    pub fn protected(&self) -> bool {
        self.criticality == Criticality::Critical
    }

    fn rank_of(&self, feature: &str) -> u32 {
        self.features.iter().find(|f| f.name == feature).map_or(u32::MAX, |f| f.rank)
    }
}

/// One change a step makes, relative to what is already in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "change", rename_all = "snake_case")]
#[ts(export)]
pub enum DegradeChange {
    LowerQuality {
        module: String,
        levels: u32,
    },
    DisableFeature {
        module: String,
        feature: String,
    },
    Pause {
        module: String,
    },
    /// Allocations of `qos` suspended and held (not a module's change).
    SuspendAllocations {
        qos: Qos,
    },
    /// Steward's sampler at its hidden-window rate.
    LowerSampling,
}

impl DegradeChange {
    /// The module it changes; `None` for a change to allocations.
    pub fn module(&self) -> Option<&str> {
        match self {
            DegradeChange::LowerQuality { module, .. }
            | DegradeChange::DisableFeature { module, .. }
            | DegradeChange::Pause { module } => Some(module),
            DegradeChange::SuspendAllocations { .. } | DegradeChange::LowerSampling => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Commanded {
    pub level: u32,
    pub disabled: BTreeSet<String>,
    pub paused: bool,
}

impl Commanded {
    /// `module`'s state with `changes` in force and its override (if any) on top.
    pub fn of<'a>(
        module: &ModuleView,
        changes: impl Iterator<Item = &'a DegradeChange>,
        over: Option<&ModuleOverride>,
    ) -> Self {
        let mut c = Commanded::default();
        if over.is_some_and(|o| o.exempt) {
            return c;
        }
        let mut lowered = 0u32;
        for ch in changes.filter(|ch| ch.module() == Some(module.name.as_str())) {
            match ch {
                DegradeChange::LowerQuality { levels, .. } => lowered = lowered.saturating_add(*levels),
                DegradeChange::DisableFeature { feature, .. } => {
                    c.disabled.insert(feature.clone());
                }
                DegradeChange::Pause { .. } => c.paused = true,
                DegradeChange::SuspendAllocations { .. } | DegradeChange::LowerSampling => {}
            }
        }
        c.level = lowered.min(module.minimal_level);
        if let Some(o) = over {
            if let Some(level) = o.force_level {
                c.level = level;
            }
            for f in &o.pinned_features {
                c.disabled.remove(f);
            }
        }
        c
    }

    /// Whether anything is taken away from full quality.
    pub fn degraded(&self) -> bool {
        *self != Commanded::default()
    }

    /// The directives that take a module from `self` to `next`: what gives back first (resume,
    /// quality, features by importance), then what takes away (least important feature first).
    pub fn directives_to(&self, next: &Commanded, module: &ModuleView) -> Vec<Directive> {
        let mut out = Vec::new();
        if self.paused && !next.paused {
            out.push(Directive::Resume);
        }
        let mut enabled: Vec<&String> = self.disabled.difference(&next.disabled).collect();
        enabled.sort_by_key(|f| (module.rank_of(f), (*f).clone()));
        out.extend(enabled.into_iter().map(|f| Directive::EnableFeature { name: f.clone() }));
        if self.level != next.level {
            out.push(Directive::SetQuality { level: next.level });
        }
        let mut disabled: Vec<&String> = next.disabled.difference(&self.disabled).collect();
        disabled.sort_by_key(|f| (std::cmp::Reverse(module.rank_of(f)), (*f).clone()));
        out.extend(disabled.into_iter().map(|f| Directive::DisableFeature { name: f.clone() }));
        if next.paused && !self.paused {
            out.push(Directive::Pause);
        }
        out
    }
}
