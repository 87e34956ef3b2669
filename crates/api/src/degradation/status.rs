//! What the Degradation view shows: every registered module with what it is commanded and what
//! it reports, the constraints in force with evidence, the steps in force, overrides, policies.

use serde::{Deserialize, Serialize};
use steward_core::degrade::{Constraint, DegradationPolicy, DegradeGroup, Engine, ModuleOverride, ModuleView};
use steward_core::module_status::{ModuleState, ModuleStatus};
use steward_core::registration::{Criticality, QualityLevel};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DegradationStatus {
    pub modules: Vec<ModuleDegradation>,
    /// Most severe first.
    pub constraints: Vec<Constraint>,
    /// The steps in force, oldest first (given back from the end).
    pub steps: Vec<DegradeGroup>,
    pub overrides: Vec<ModuleOverride>,
    pub policies: Vec<DegradationPolicy>,
    /// Why a cleared constraint's steps are not given back yet.
    pub held: Option<String>,
    #[ts(type = "number")]
    pub check_interval_ms: i64,
    #[ts(type = "number | null")]
    pub last_check_ms: Option<i64>,
    /// What counts against the memory budget, or why it is unknown.
    pub memory: BudgetView,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BudgetView {
    #[ts(type = "number | null")]
    pub used_bytes: Option<u64>,
    #[ts(type = "number | null")]
    pub budget_bytes: Option<u64>,
    /// What is counted (`node memory used`, `RSS of modules a, b`) or why nothing is.
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ModuleDegradation {
    pub node: String,
    pub name: String,
    pub role: String,
    pub criticality: Criticality,
    pub state: ModuleState,
    pub lost_reason: Option<String>,
    pub levels: Vec<QualityLevel>,
    pub minimal_level: u32,
    /// The level Steward commands (0 = full quality).
    pub commanded_level: u32,
    /// The level the module last said it runs at.
    pub reported_level: Option<u32>,
    pub paused: bool,
    pub features: Vec<FeatureState>,
    pub cpu_millis: Option<u32>,
    #[ts(type = "number | null")]
    pub memory_bytes: Option<u64>,
    pub goodput_per_s: Option<f64>,
    /// Checks that changed what it was told.
    pub transitions: u32,
    pub over: Option<ModuleOverride>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FeatureState {
    pub name: String,
    pub rank: u32,
    /// Steward wants it on.
    pub commanded_on: bool,
    /// The module said it is on (`None` before its first report).
    pub reported_on: Option<bool>,
    pub pinned: bool,
}

/// The view's row for one module.
pub(crate) fn module_row(s: &ModuleStatus, view: &ModuleView, engine: &Engine) -> ModuleDegradation {
    let c = engine.commanded(view);
    let over = engine.overrides().find(|o| o.module == view.name).cloned();
    let r = &s.registration;
    ModuleDegradation {
        node: s.node.clone(),
        name: r.name.clone(),
        role: r.role.clone(),
        criticality: r.criticality,
        state: s.state,
        lost_reason: s.lost_reason.clone(),
        levels: r.quality_levels.clone(),
        minimal_level: r.minimal_level,
        commanded_level: c.level,
        reported_level: s.report.as_ref().map(|x| x.quality_level),
        paused: c.paused,
        features: r
            .features
            .iter()
            .map(|f| FeatureState {
                name: f.name.clone(),
                rank: f.rank,
                commanded_on: !c.disabled.contains(&f.name),
                reported_on: s.report.as_ref().map(|x| x.features_on.contains(&f.name)),
                pinned: over.as_ref().is_some_and(|o| o.pinned_features.contains(&f.name)),
            })
            .collect(),
        cpu_millis: s.report.as_ref().and_then(|x| x.cpu_millis),
        memory_bytes: s.report.as_ref().and_then(|x| x.memory_bytes),
        goodput_per_s: s.goodput_per_s,
        transitions: engine.transitions(&view.node, &view.name),
        over,
    }
}
