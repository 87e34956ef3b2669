//! Declarative policies: which constraint at which tier triggers which ordered steps, or a
//! setpoint to hold. A policy that would touch a critical module is refused with the reason.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::commanded::ModuleView;
use super::constraint::ConstraintKind;
use crate::alloc::Qos;
use crate::registration::Criticality;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct DegradationPolicy {
    /// Letters, digits, `_` and `-`; unique.
    pub name: String,
    /// Tier steps: fire while `when` holds. Exactly one of `when`, `setpoint` and
    /// `latency_setpoint`.
    #[serde(default)]
    pub when: Option<PolicyTrigger>,
    /// A brownout-style controller instead: hold memory headroom by moving quality one step
    /// per check, least important first.
    #[serde(default)]
    pub setpoint: Option<MemorySetpoint>,
    /// A brownout-style controller on one module: hold the latency it reports at a target by
    /// moving its own quality one level per check.
    #[serde(default)]
    pub latency_setpoint: Option<LatencySetpoint>,
    /// In order; applied together when the policy fires, restored together.
    #[serde(default)]
    pub steps: Vec<PolicyStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PolicyTrigger {
    pub constraint: ConstraintKind,
    /// Fires at this tier and above (1–4; kinds without tiers have only 1).
    #[serde(default = "one")]
    pub tier: u8,
}

fn one() -> u8 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MemorySetpoint {
    /// Free memory to keep, in % of the memory budget.
    pub memory_headroom_pct: f64,
    /// No move while headroom is within this many points of the target.
    #[serde(default = "five")]
    pub deadband_pct: f64,
}

fn five() -> f64 {
    5.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LatencySetpoint {
    /// The module whose reported `latency_ms` is held (never a critical one).
    pub module: String,
    /// The latency to hold, in ms.
    pub target_ms: f64,
    /// No move while latency is within this many % of the target.
    #[serde(default = "ten")]
    pub deadband_pct: f64,
}

fn ten() -> f64 {
    10.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PolicyStep {
    pub action: StepAction,
    pub target: StepTarget,
    /// Levels to lower (`lower_quality`, default 1) or features to disable, least important
    /// first (`disable_features`, default all).
    #[serde(default)]
    pub amount: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StepAction {
    LowerQuality,
    DisableFeatures,
    Pause,
    /// Suspend running allocations of the target QoS class and hold its queued ones (through
    /// the allocation engine) until the step is given back.
    SuspendAllocations,
    /// Sample this node at the rate of a hidden window (5 s, expensive collectors 30 s) even
    /// while someone watches: Steward's own overhead shed.
    LowerSampling,
}

impl StepAction {
    /// Acts on registered modules (the others act on allocations or on Steward's sampler).
    pub fn on_modules(self) -> bool {
        !matches!(self, StepAction::SuspendAllocations | StepAction::LowerSampling)
    }
}

/// Which modules a step acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StepTarget {
    Criticality(Criticality),
    Module(String),
    /// Allocations of one QoS class (`best_effort` or `burstable`; guaranteed is never touched).
    Qos(Qos),
    /// Steward's own sampler (`lower_sampling`).
    Sampler,
}

impl StepTarget {
    pub fn matches(&self, m: &ModuleView) -> bool {
        match self {
            StepTarget::Criticality(c) => m.criticality == *c,
            StepTarget::Module(n) => m.name == *n,
            StepTarget::Qos(_) | StepTarget::Sampler => false,
        }
    }
}

/// Why a policy is refused, naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PolicyError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError { field: field.into(), message: message.into() }
}

impl DegradationPolicy {
    /// Every problem, per field; `modules` are those registered now (a step naming a critical
    /// one is refused).
    pub fn problems(&self, modules: &[ModuleView]) -> Vec<PolicyError> {
        let mut out = Vec::new();
        if !valid_name(&self.name) {
            out.push(err("name", "must be 1–64 letters, digits, '_' or '-'"));
        }
        let kinds = [self.when.is_some(), self.setpoint.is_some(), self.latency_setpoint.is_some()];
        if kinds.iter().filter(|k| **k).count() != 1 {
            out.push(err("when", "a policy has exactly one of when, setpoint and latency_setpoint"));
            return out;
        }
        if let Some(l) = &self.latency_setpoint {
            out.extend(latency_problems(l, modules));
        }
        match (&self.when, &self.setpoint) {
            (None, None) | (Some(_), Some(_)) if !self.steps.is_empty() => {
                out.push(err("steps", "a setpoint policy moves quality itself and takes no steps"));
            }
            (None, None) | (Some(_), Some(_)) => {}
            (Some(t), None) => {
                let max = if t.constraint == ConstraintKind::Memory { 4 } else { 1 };
                if !(1..=max).contains(&t.tier) {
                    out.push(err("when.tier", format!("{} has tiers 1–{max}, not {}", t.constraint.as_str(), t.tier)));
                }
                if self.steps.is_empty() {
                    out.push(err("steps", "a tier policy needs at least one step"));
                }
            }
            (None, Some(s)) => {
                if !(s.memory_headroom_pct > 0.0 && s.memory_headroom_pct < 100.0) {
                    out.push(err("setpoint.memory_headroom_pct", "must be between 0 and 100"));
                }
                if !(s.deadband_pct >= 0.0 && s.deadband_pct < s.memory_headroom_pct) {
                    out.push(err("setpoint.deadband_pct", "must be ≥ 0 and below memory_headroom_pct"));
                }
                if !self.steps.is_empty() {
                    out.push(err("steps", "a setpoint policy moves quality itself and takes no steps"));
                }
            }
        }
        for (i, s) in self.steps.iter().enumerate() {
            out.extend(step_problems(s, modules).map(|(f, m)| err(format!("steps[{i}].{f}"), m)));
        }
        out
    }
}

fn latency_problems(l: &LatencySetpoint, modules: &[ModuleView]) -> Vec<PolicyError> {
    let mut out = Vec::new();
    if !valid_name(&l.module) {
        out.push(err("latency_setpoint.module", "must name a module (letters, digits, '_' or '-')"));
    } else if let Some(m) = modules.iter().find(|m| m.name == l.module && m.protected()) {
        out.push(err(
            "latency_setpoint.module",
            format!("{} is critical: critical modules are never degraded", m.name),
        ));
    }
    if !(l.target_ms.is_finite() && l.target_ms > 0.0) {
        out.push(err("latency_setpoint.target_ms", "must be a latency above 0 ms"));
    }
    if !(l.deadband_pct >= 0.0 && l.deadband_pct < 100.0) {
        out.push(err("latency_setpoint.deadband_pct", "must be ≥ 0 and below 100"));
    }
    out
}

fn step_problems<'a>(
    s: &'a PolicyStep,
    modules: &'a [ModuleView],
) -> impl Iterator<Item = (&'static str, String)> + 'a {
    let critical = match &s.target {
        StepTarget::Criticality(Criticality::Critical) => Some("critical modules are never degraded".to_string()),
        StepTarget::Module(n) => modules
            .iter()
            .find(|m| &m.name == n && m.protected())
            .map(|m| format!("{} is critical: critical modules are never degraded", m.name)),
        StepTarget::Qos(Qos::Guaranteed) => Some("allocations with guaranteed QoS are never touched".to_string()),
        StepTarget::Criticality(_) | StepTarget::Qos(_) | StepTarget::Sampler => None,
    };
    let mismatch = match (s.action, &s.target) {
        (StepAction::SuspendAllocations, StepTarget::Qos(_)) | (StepAction::LowerSampling, StepTarget::Sampler) => None,
        (a, StepTarget::Criticality(_) | StepTarget::Module(_)) if a.on_modules() => None,
        (StepAction::SuspendAllocations, _) => {
            Some("suspend_allocations targets a QoS class: { qos = \"best_effort\" }".to_string())
        }
        (StepAction::LowerSampling, _) => Some("lower_sampling targets \"sampler\"".to_string()),
        _ => Some("module steps target a criticality or a module".to_string()),
    };
    let bad_module = match &s.target {
        StepTarget::Module(n) if !valid_name(n) => Some("must name a module (letters, digits, '_' or '-')".to_string()),
        _ => None,
    };
    let amount = match (s.action, s.amount) {
        (_, Some(0)) => Some("must be at least 1".to_string()),
        (StepAction::Pause, Some(_)) => Some("pause takes no amount".to_string()),
        (StepAction::SuspendAllocations | StepAction::LowerSampling, Some(_)) => {
            Some("this action takes no amount".to_string())
        }
        _ => None,
    };
    critical.into_iter().chain(bad_module).chain(mismatch).map(|m| ("target", m)).chain(amount.map(|m| ("amount", m)))
}

pub fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The policies in force when none are configured: memory tiers shed sheddable modules, then
/// `normal`, then `high` (at tier 3 best-effort allocations are suspended too); CPU saturation, heat and the power budget lower sheddable quality.
pub fn defaults() -> Vec<DegradationPolicy> {
    use Criticality::{High, Normal, Sheddable};
    use StepAction::{DisableFeatures, LowerQuality, Pause, SuspendAllocations};
    let step = |action, c, amount| PolicyStep { action, target: StepTarget::Criticality(c), amount };
    let tier = |name: &str, constraint, tier, steps| DegradationPolicy {
        name: name.into(),
        when: Some(PolicyTrigger { constraint, tier }),
        setpoint: None,
        latency_setpoint: None,
        steps,
    };
    vec![
        tier(
            "memory-70",
            ConstraintKind::Memory,
            1,
            vec![step(DisableFeatures, Sheddable, None), step(LowerQuality, Sheddable, Some(1))],
        ),
        tier(
            "memory-80",
            ConstraintKind::Memory,
            2,
            vec![step(LowerQuality, Sheddable, Some(u32::MAX)), step(DisableFeatures, Normal, None)],
        ),
        tier(
            "memory-90",
            ConstraintKind::Memory,
            3,
            vec![
                step(Pause, Sheddable, None),
                PolicyStep { action: SuspendAllocations, target: StepTarget::Qos(Qos::BestEffort), amount: None },
                step(LowerQuality, Normal, Some(u32::MAX)),
                step(DisableFeatures, High, None),
            ],
        ),
        tier("memory-95", ConstraintKind::Memory, 4, vec![step(LowerQuality, High, Some(u32::MAX))]),
        tier("cpu-saturated", ConstraintKind::Cpu, 1, vec![step(LowerQuality, Sheddable, Some(1))]),
        tier("thermal", ConstraintKind::Thermal, 1, vec![step(LowerQuality, Sheddable, Some(1))]),
        tier("power-budget", ConstraintKind::Power, 1, vec![step(LowerQuality, Sheddable, Some(1))]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_touching_a_critical_module_is_refused_with_the_reason() {
        let mut p = defaults().remove(0);
        assert!(p.problems(&[]).is_empty());
        p.steps.push(PolicyStep {
            action: StepAction::Pause,
            target: StepTarget::Criticality(Criticality::Critical),
            amount: None,
        });
        let e = p.problems(&[]);
        assert_eq!(e[0].field, "steps[2].target");
        assert!(e[0].message.contains("never degraded"));
        let nav = ModuleView {
            name: "nav".into(),
            node: "local".into(),
            criticality: Criticality::Critical,
            features: vec![],
            levels: 1,
            minimal_level: 0,
            lost: false,
            level_memory_bytes: vec![],
            memory_bytes: None,
            reported_level: None,
            latency_ms: None,
        };
        p.steps[2].target = StepTarget::Module("nav".into());
        assert!(p.problems(&[nav])[0].message.starts_with("nav is critical"));
    }

    #[test]
    fn allocation_steps_target_a_qos_class_and_never_guaranteed() {
        let mut p = defaults().remove(0);
        let suspend = |target| PolicyStep { action: StepAction::SuspendAllocations, target, amount: None };
        p.steps = vec![suspend(StepTarget::Qos(Qos::Burstable))];
        assert!(p.problems(&[]).is_empty());
        p.steps = vec![suspend(StepTarget::Qos(Qos::Guaranteed))];
        assert!(p.problems(&[])[0].message.contains("guaranteed QoS are never touched"));
        p.steps = vec![suspend(StepTarget::Criticality(Criticality::Sheddable))];
        assert!(p.problems(&[])[0].message.contains("targets a QoS class"));
        p.steps = vec![PolicyStep {
            action: StepAction::LowerQuality,
            target: StepTarget::Qos(Qos::BestEffort),
            amount: None,
        }];
        assert!(p.problems(&[])[0].message.contains("module steps target"));
        p.steps = vec![PolicyStep { action: StepAction::LowerSampling, target: StepTarget::Sampler, amount: None }];
        assert!(p.problems(&[]).is_empty());
        p.steps[0].target = StepTarget::Qos(Qos::BestEffort);
        assert!(p.problems(&[])[0].message.contains("lower_sampling targets"));
        let parsed: PolicyStep =
            serde_json::from_value(serde_json::json!({"action": "lower_sampling", "target": "sampler"})).unwrap();
        assert_eq!(parsed.target, StepTarget::Sampler);
        let parsed: PolicyStep = serde_json::from_value(
            serde_json::json!({"action": "suspend_allocations", "target": {"qos": "best_effort"}}),
        )
        .unwrap();
        assert_eq!(parsed, suspend(StepTarget::Qos(Qos::BestEffort)));
    }

    #[test]
    fn defaults_are_valid_and_parse_from_toml_shapes() {
        for p in defaults() {
            assert!(p.problems(&[]).is_empty(), "{}: {:?}", p.name, p.problems(&[]));
        }
        let p: DegradationPolicy = serde_json::from_value(serde_json::json!({
            "name": "hold", "setpoint": {"memory_headroom_pct": 20.0}
        }))
        .unwrap();
        assert!(p.problems(&[]).is_empty());
    }
}
