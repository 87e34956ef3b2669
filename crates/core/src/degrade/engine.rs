//! The degradation engine: each check takes the constraints in force and the registered
//! modules, fires policies, and answers with directives for modules.
//!
//! Shedding is immediate (the engine runs at every detection): every policy that fires and has
//! nothing in force gets a group (its steps, expanded against what is commanded now). Recovery
//! is slow and ordered: at most one step is given back per scheduled check, always the latest
//! (a stack), and only once its policy no longer fires — which the detector's dwell time delays.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::commanded::{Commanded, DegradeChange, ModuleView};
use super::constraint::{Constraint, ConstraintKind};
use super::history::{DegradationEvent, EventDetail};
use super::ladder::{expand, expand_shared, next_notch, shed_rank};
use super::overrides::ModuleOverride;
use super::policy::DegradationPolicy;
use super::setpoint::{Move, decide, latency_move};
use crate::TimestampMs;
use crate::alloc::Qos;
use crate::registration::Directive;

/// What one policy firing took, given back as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DegradeGroup {
    pub policy: String,
    #[ts(type = "number")]
    pub at_ms: TimestampMs,
    /// The constraint (or setpoint) behind it, in words.
    pub reason: String,
    pub changes: Vec<DegradeChange>,
    /// Taken by a setpoint controller (one notch), not by tier steps.
    pub setpoint: bool,
}

/// A directive for one module, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ModuleOrder {
    pub module: String,
    pub node: String,
    pub directive: Directive,
    pub reason: String,
}

/// QoS classes whose allocations are suspended and held, and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllocationHold {
    pub classes: BTreeSet<Qos>,
    pub why: String,
}

/// What a check decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Check {
    pub orders: Vec<ModuleOrder>,
    pub events: Vec<DegradationEvent>,
    /// Groups given back this check: one constraint's worth at most.
    pub restored: usize,
}

/// One check's inputs.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub now_ms: TimestampMs,
    pub constraints: &'a [Constraint],
    pub modules: &'a [ModuleView],
    pub policies: &'a [DegradationPolicy],
    /// Free memory in % of the budget, for setpoint policies; `None` when unknown.
    pub headroom_pct: Option<f64>,
    /// Memory in use against its budget, to hold back a recovery that would refill it.
    pub memory: Option<MemoryGate>,
    /// A scheduled check: give back and move setpoints. Between checks the engine only sheds
    /// (pressure is answered when it is seen).
    pub recover: bool,
}

/// Memory now and the share below which what was shed may come back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryGate {
    pub used_bytes: u64,
    pub budget_bytes: u64,
    /// Tier 1's entry threshold less the hysteresis, in %.
    pub resume_below_pct: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Engine {
    groups: Vec<DegradeGroup>,
    overrides: BTreeMap<String, ModuleOverride>,
    /// What each module was last told to run at.
    /// Keyed by (node, name): a module of one name may run on several nodes.
    sent: BTreeMap<(String, String), Commanded>,
    /// Per module, how many checks changed what it was told.
    transitions: BTreeMap<(String, String), u32>,
    constraints: Vec<Constraint>,
    /// Why the last check gave nothing back although a constraint cleared.
    held: Option<String>,
}

impl Engine {
    pub fn new() -> Self {
        Engine::default()
    }

    /// Restores the state kept across restarts: overrides and the groups in force.
    pub fn restore(groups: Vec<DegradeGroup>, overrides: Vec<ModuleOverride>) -> Self {
        Engine {
            groups,
            overrides: overrides.into_iter().map(|o| (o.module.clone(), o)).collect(),
            ..Engine::default()
        }
    }

    pub fn check(&mut self, inp: &Inputs) -> Check {
        let mut events = constraint_events(&self.constraints, inp.constraints, inp.now_ms);
        self.constraints = inp.constraints.to_vec();
        let fired = fired(inp.policies, inp.constraints);
        let mut restored = if inp.recover { self.restore_step(inp, &fired, &mut events) } else { 0 };
        let shed = self.shed(inp, &fired, &mut events);
        if inp.recover && restored == 0 && !shed {
            restored = usize::from(self.setpoint(inp, &mut events));
        }
        let reason = reason_of(&events);
        let orders = self.reconcile(inp.modules, &reason, restored > 0 && !shed);
        Check { orders, events, restored }
    }

    /// Orders that bring modules in line with what is commanded (after an override changed).
    pub fn reconcile_now(&mut self, modules: &[ModuleView], reason: &str) -> Vec<ModuleOrder> {
        self.reconcile(modules, reason, false)
    }

    pub fn set_override(&mut self, o: ModuleOverride, now_ms: TimestampMs) -> DegradationEvent {
        self.overrides.insert(o.module.clone(), o.clone());
        DegradationEvent { ts_ms: now_ms, detail: EventDetail::OverrideSet { over: o } }
    }

    /// `None` when the module has no override.
    pub fn release_override(&mut self, module: &str, by: &str, now_ms: TimestampMs) -> Option<DegradationEvent> {
        self.overrides.remove(module)?;
        Some(DegradationEvent {
            ts_ms: now_ms,
            detail: EventDetail::OverrideReleased { module: module.into(), by: by.into() },
        })
    }

    /// A module that registered again starts at full quality: what it was told is forgotten.
    pub fn forget_module(&mut self, node: &str, module: &str) {
        self.sent.remove(&(node.to_string(), module.to_string()));
    }

    pub fn groups(&self) -> &[DegradeGroup] {
        &self.groups
    }

    pub fn overrides(&self) -> impl Iterator<Item = &ModuleOverride> {
        self.overrides.values()
    }

    pub fn transitions(&self, node: &str, module: &str) -> u32 {
        self.transitions.get(&(node.to_string(), module.to_string())).copied().unwrap_or(0)
    }

    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// What `m` is commanded to run at now.
    pub fn commanded(&self, m: &ModuleView) -> Commanded {
        self.commanded_with(m, self.groups.len())
    }

    /// What `m` would run at with only the first `groups` groups in force.
    fn commanded_with(&self, m: &ModuleView, groups: usize) -> Commanded {
        Commanded::of(m, self.groups[..groups].iter().flat_map(|g| &g.changes), self.overrides.get(&m.name))
    }

    /// QoS classes whose allocations the steps in force keep suspended.
    pub fn held_qos(&self) -> BTreeSet<Qos> {
        let changes = self.groups.iter().flat_map(|g| &g.changes);
        changes
            .filter_map(|c| if let DegradeChange::SuspendAllocations { qos } = c { Some(*qos) } else { None })
            .collect()
    }

    /// What the allocation engine is to hold: the classes, and why (the groups holding them).
    pub fn allocation_hold(&self) -> AllocationHold {
        let holding = self
            .groups
            .iter()
            .filter(|g| g.changes.iter().any(|c| matches!(c, DegradeChange::SuspendAllocations { .. })));
        let why: Vec<String> = holding.map(|g| format!("{} ({})", g.policy, g.reason)).collect();
        AllocationHold { classes: self.held_qos(), why: why.join("; ") }
    }

    /// Why Steward's sampler runs slower (the policy and its reason), if a step says so.
    pub fn sampling_lowered(&self) -> Option<String> {
        let g = self.groups.iter().find(|g| g.changes.contains(&DegradeChange::LowerSampling))?;
        Some(format!("{} ({})", g.policy, g.reason))
    }

    pub fn held(&self) -> Option<&str> {
        self.held.as_deref()
    }

    fn commanded_all(&self, modules: &[ModuleView]) -> BTreeMap<String, Commanded> {
        modules.iter().map(|m| (m.name.clone(), self.commanded(m))).collect()
    }

    /// Gives back the latest groups its constraint no longer calls for: the run of groups on top
    /// of the stack whose policies no longer fire and share that group's constraint (one
    /// constraint's relief is one step). Held while giving them back would bring memory above
    /// where it may resume (the cost each level declared, scaled by what modules report).
    fn restore_step(
        &mut self,
        inp: &Inputs,
        fired: &[&DegradationPolicy],
        events: &mut Vec<DegradationEvent>,
    ) -> usize {
        self.held = None;
        let unwanted = |g: &DegradeGroup| !g.setpoint && !fired.iter().any(|p| p.name == g.policy);
        let Some(top) = self.groups.last().filter(|g| unwanted(g)) else { return 0 };
        // A group whose policy was deleted has no trigger: it goes back alone.
        let Some(kind) = trigger_kind(inp.policies, top) else { return self.give_back(1, inp, events) };
        let run =
            self.groups.iter().rev().take_while(|g| unwanted(g) && trigger_kind(inp.policies, g) == Some(kind)).count();
        if let Some(gate) = &inp.memory {
            let after = self.groups.len() - run;
            let projected =
                projected_memory(inp.modules, gate, |m| self.commanded(m), |m| self.commanded_with(m, after));
            if projected > gate.resume_below_pct {
                self.held = Some(format!(
                    "giving back would bring memory to {projected:.0} % of the budget (resumes below {:.0} %)",
                    gate.resume_below_pct
                ));
                return 0;
            }
        }
        self.give_back(run, inp, events)
    }

    /// Pops the `n` latest groups, latest first, saying why.
    fn give_back(&mut self, n: usize, inp: &Inputs, events: &mut Vec<DegradationEvent>) -> usize {
        for _ in 0..n {
            let g = self.groups.pop().expect("n ≤ groups");
            let reason = match inp.constraints.first() {
                None => "no constraint in force".to_string(),
                Some(c) => format!("{} no longer fires ({} in force)", g.policy, c.summary),
            };
            events.push(DegradationEvent {
                ts_ms: inp.now_ms,
                detail: EventDetail::Restored { policy: g.policy, reason, changes: g.changes },
            });
        }
        n
    }

    /// Takes the steps of every fired policy that has nothing in force; true if any changed.
    fn shed(&mut self, inp: &Inputs, fired: &[&DegradationPolicy], events: &mut Vec<DegradationEvent>) -> bool {
        let mut commanded = self.commanded_all(inp.modules);
        let mut shared: Vec<DegradeChange> =
            self.groups.iter().flat_map(|g| &g.changes).filter(|c| c.module().is_none()).cloned().collect();
        let mut any = false;
        for p in fired {
            if self.groups.iter().any(|g| g.policy == p.name) {
                continue;
            }
            let changes: Vec<DegradeChange> = p
                .steps
                .iter()
                .flat_map(|s| match s.action.on_modules() {
                    true => expand(s, inp.modules, &self.overrides, &mut commanded),
                    false => expand_shared(s, &mut shared).into_iter().collect(),
                })
                .collect();
            if changes.is_empty() {
                continue;
            }
            let reason = why_fired(p, inp.constraints);
            events.push(DegradationEvent {
                ts_ms: inp.now_ms,
                detail: EventDetail::Applied {
                    policy: p.name.clone(),
                    reason: reason.clone(),
                    changes: changes.clone(),
                },
            });
            self.groups.push(DegradeGroup {
                policy: p.name.clone(),
                at_ms: inp.now_ms,
                reason,
                changes,
                setpoint: false,
            });
            any = true;
        }
        any
    }

    /// Moves the setpoint controllers one notch each (the first memory one, then every latency
    /// one); true if one gave a notch back (one per check at most).
    fn setpoint(&mut self, inp: &Inputs, events: &mut Vec<DegradationEvent>) -> bool {
        let mut restored = self.memory_setpoint(inp, events);
        for p in inp.policies.iter().filter(|p| p.latency_setpoint.is_some()) {
            restored |= self.latency_setpoint(p, inp, events, restored);
        }
        restored
    }

    fn memory_setpoint(&mut self, inp: &Inputs, events: &mut Vec<DegradationEvent>) -> bool {
        let (Some(p), Some(headroom)) = (inp.policies.iter().find(|p| p.setpoint.is_some()), inp.headroom_pct) else {
            return false;
        };
        let sp = p.setpoint.as_ref().expect("found by it");
        let reason = format!("memory headroom {headroom:.0} %, target {:.0} %", sp.memory_headroom_pct);
        match decide(headroom, sp.memory_headroom_pct, sp.deadband_pct) {
            Move::Shed => {
                let commanded = self.commanded_all(inp.modules);
                if let Some(change) = next_notch(inp.modules, &self.overrides, &commanded) {
                    self.take_notch(&p.name, reason, change, inp.now_ms, events);
                }
                false
            }
            Move::Restore => self.give_notch_back(&p.name, reason, inp.now_ms, events),
            Move::Hold => false,
        }
    }

    /// Holds one module's reported latency: one level cheaper above the band, one back below.
    fn latency_setpoint(
        &mut self,
        p: &DegradationPolicy,
        inp: &Inputs,
        events: &mut Vec<DegradationEvent>,
        restored_already: bool,
    ) -> bool {
        let sp = p.latency_setpoint.as_ref().expect("filtered on it");
        let Some(m) = inp.modules.iter().find(|m| m.name == sp.module && !m.lost) else { return false };
        let Some(latency) = m.latency_ms else { return false };
        let reason = format!("{} latency {latency:.0} ms, target {:.0} ms", m.name, sp.target_ms);
        match latency_move(latency, sp.target_ms, sp.deadband_pct) {
            Move::Shed => {
                let exempt = self.overrides.get(&m.name).is_some_and(|o| o.exempt);
                if !m.protected() && !exempt && self.commanded(m).level < m.minimal_level {
                    let change = DegradeChange::LowerQuality { module: m.name.clone(), levels: 1 };
                    self.take_notch(&p.name, reason, change, inp.now_ms, events);
                }
                false
            }
            Move::Restore if !restored_already => self.give_notch_back(&p.name, reason, inp.now_ms, events),
            _ => false,
        }
    }

    fn take_notch(
        &mut self,
        policy: &str,
        reason: String,
        change: DegradeChange,
        now_ms: i64,
        events: &mut Vec<DegradationEvent>,
    ) {
        events.push(DegradationEvent {
            ts_ms: now_ms,
            detail: EventDetail::Applied {
                policy: policy.into(),
                reason: reason.clone(),
                changes: vec![change.clone()],
            },
        });
        self.groups.push(DegradeGroup {
            policy: policy.into(),
            at_ms: now_ms,
            reason,
            changes: vec![change],
            setpoint: true,
        });
    }

    /// Gives back the latest group if `policy`'s controller took it (the stack stays ordered).
    fn give_notch_back(
        &mut self,
        policy: &str,
        reason: String,
        now_ms: i64,
        events: &mut Vec<DegradationEvent>,
    ) -> bool {
        if !self.groups.last().is_some_and(|g| g.setpoint && g.policy == policy) {
            return false;
        }
        let g = self.groups.pop().expect("checked above");
        events.push(DegradationEvent {
            ts_ms: now_ms,
            detail: EventDetail::Restored { policy: g.policy, reason, changes: g.changes },
        });
        true
    }

    /// Directives for every reachable module whose commanded state moved, in shedding order
    /// (the reverse when giving back).
    fn reconcile(&mut self, modules: &[ModuleView], reason: &str, giving_back: bool) -> Vec<ModuleOrder> {
        let mut ordered: Vec<&ModuleView> = modules.iter().filter(|m| !m.lost).collect();
        ordered.sort_by(|a, b| shed_rank(a.criticality).cmp(&shed_rank(b.criticality)).then(a.name.cmp(&b.name)));
        if giving_back {
            ordered.reverse();
        }
        let mut orders = Vec::new();
        for m in ordered {
            let next = self.commanded(m);
            let key = (m.node.clone(), m.name.clone());
            let prev = self.sent.get(&key).cloned().unwrap_or_default();
            if next == prev {
                continue;
            }
            orders.extend(prev.directives_to(&next, m).into_iter().map(|directive| ModuleOrder {
                module: m.name.clone(),
                node: m.node.clone(),
                directive,
                reason: reason.to_string(),
            }));
            *self.transitions.entry(key.clone()).or_default() += 1;
            self.sent.insert(key, next);
        }
        orders
    }
}

fn trigger_kind(policies: &[DegradationPolicy], g: &DegradeGroup) -> Option<ConstraintKind> {
    policies.iter().find(|p| p.name == g.policy).and_then(|p| p.when.as_ref()).map(|t| t.constraint)
}

/// Memory in % of the budget once modules run as `after` says instead of as `now` says: each
/// module's report scaled by the cost its levels declare (a paused module costs nothing); a
/// module that declares no cost counts as it reports.
fn projected_memory(
    modules: &[ModuleView],
    gate: &MemoryGate,
    now: impl Fn(&ModuleView) -> Commanded,
    after: impl Fn(&ModuleView) -> Commanded,
) -> f64 {
    let mut used = gate.used_bytes as f64;
    for m in modules.iter().filter(|m| !m.lost) {
        let (a, b) = (now(m), after(m));
        if a == b {
            continue;
        }
        used += m.estimated_memory(&b, !a.paused) - m.estimated_memory(&a, !a.paused);
    }
    used / gate.budget_bytes.max(1) as f64 * 100.0
}

/// Tier policies whose trigger holds, lowest tier first (the order their steps are taken in).
fn fired<'a>(policies: &'a [DegradationPolicy], constraints: &[Constraint]) -> Vec<&'a DegradationPolicy> {
    let mut out: Vec<&DegradationPolicy> = policies
        .iter()
        .filter(|p| {
            p.when.as_ref().is_some_and(|t| constraints.iter().any(|c| c.kind == t.constraint && c.tier >= t.tier))
        })
        .collect();
    out.sort_by_key(|p| p.when.as_ref().map_or(0, |t| t.tier));
    out
}

fn why_fired(p: &DegradationPolicy, constraints: &[Constraint]) -> String {
    let t = p.when.as_ref().expect("tier policies only");
    constraints
        .iter()
        .find(|c| c.kind == t.constraint && c.tier >= t.tier)
        .map_or_else(|| t.constraint.as_str().to_string(), |c| c.summary.clone())
}

fn reason_of(events: &[DegradationEvent]) -> String {
    let words: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.detail {
            EventDetail::Applied { policy, reason, .. } => Some(format!("{policy}: {reason}")),
            EventDetail::Restored { policy, reason, .. } => Some(format!("{policy} given back: {reason}")),
            _ => None,
        })
        .collect();
    words.join("; ")
}

fn constraint_events(before: &[Constraint], after: &[Constraint], now: TimestampMs) -> Vec<DegradationEvent> {
    let mut out = Vec::new();
    for c in after {
        let detail = match before.iter().find(|b| b.key == c.key) {
            None => Some(EventDetail::ConstraintStarted { constraint: c.clone() }),
            Some(b) if b.tier != c.tier => Some(EventDetail::ConstraintChanged { constraint: c.clone() }),
            Some(_) => None,
        };
        out.extend(detail.map(|detail| DegradationEvent { ts_ms: now, detail }));
    }
    for b in before.iter().filter(|b| !after.iter().any(|c| c.key == b.key)) {
        out.push(DegradationEvent {
            ts_ms: now,
            detail: EventDetail::ConstraintEnded { key: b.key.clone(), summary: b.summary.clone() },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::degrade::constraint::ConstraintKind;
    use crate::degrade::policy::{PolicyStep, StepAction, StepTarget, defaults};
    use crate::registration::{Criticality, Feature};

    fn m(name: &str, criticality: Criticality, features: &[(&str, u32)], levels: u32) -> ModuleView {
        ModuleView {
            name: name.into(),
            node: "local".into(),
            criticality,
            features: features.iter().map(|(n, r)| Feature { name: (*n).into(), rank: *r }).collect(),
            levels,
            minimal_level: levels - 1,
            lost: false,
            level_memory_bytes: vec![],
            memory_bytes: None,
            reported_level: None,
            latency_ms: None,
        }
    }

    fn memory(tier: u8) -> Vec<Constraint> {
        if tier == 0 {
            return vec![];
        }
        vec![Constraint {
            key: "memory".into(),
            kind: ConstraintKind::Memory,
            tier,
            summary: format!("memory tier {tier}"),
            evidence: vec![],
            since_ms: 0,
        }]
    }

    fn four() -> Vec<ModuleView> {
        vec![
            m("perception", Criticality::Critical, &[("tracking", 1)], 3),
            m("memory", Criticality::High, &[("prefetch", 2)], 3),
            m("reasoning", Criticality::Normal, &[("explain", 1), ("deep", 2)], 4),
            m("learning", Criticality::Sheddable, &[("augment", 1)], 3),
        ]
    }

    fn run(e: &mut Engine, now: i64, tier: u8, modules: &[ModuleView]) -> Check {
        let cs = memory(tier);
        let policies = defaults();
        e.check(&Inputs {
            now_ms: now,
            constraints: &cs,
            modules,
            policies: &policies,
            headroom_pct: None,
            memory: None,
            recover: true,
        })
    }

    #[test]
    fn a_suspend_step_holds_its_qos_class_until_given_back() {
        let modules = four();
        let mut e = Engine::new();
        let c = run(&mut e, 0, 3, &modules);
        assert_eq!(e.held_qos(), BTreeSet::from([Qos::BestEffort]), "memory-90 holds best-effort allocations");
        let applied = c.events.iter().any(|ev| {
            matches!(&ev.detail, EventDetail::Applied { changes, .. }
                if changes.contains(&DegradeChange::SuspendAllocations { qos: Qos::BestEffort }))
        });
        assert!(applied, "the timeline says so: {:?}", c.events);
        assert!(c.orders.iter().all(|o| o.module != "perception"));
        run(&mut e, 1, 1, &modules);
        assert!(e.held_qos().is_empty(), "given back with memory-90's group");
    }

    #[test]
    fn a_sampling_step_is_taken_once_and_given_back_with_its_policy() {
        let modules = four();
        let mut policies = defaults();
        policies[0].steps.push(PolicyStep {
            action: StepAction::LowerSampling,
            target: StepTarget::Sampler,
            amount: None,
        });
        policies[1].steps.push(PolicyStep {
            action: StepAction::LowerSampling,
            target: StepTarget::Sampler,
            amount: None,
        });
        let mut e = Engine::new();
        let check = |e: &mut Engine, now, tier| {
            let cs = memory(tier);
            e.check(&Inputs {
                now_ms: now,
                constraints: &cs,
                modules: &modules,
                policies: &policies,
                headroom_pct: None,
                memory: None,
                recover: true,
            })
        };
        check(&mut e, 0, 2);
        assert!(e.sampling_lowered().unwrap().starts_with("memory-70"));
        let lowering = e.groups().iter().flat_map(|g| &g.changes).filter(|c| **c == DegradeChange::LowerSampling);
        assert_eq!(lowering.count(), 1, "memory-80 finds it in force and does not repeat it");
        check(&mut e, 1, 1);
        assert_eq!(e.groups().len(), 1, "memory-80 given back");
        assert!(e.sampling_lowered().is_some(), "memory-70's group holds it still");
        check(&mut e, 2, 0);
        assert_eq!(e.sampling_lowered(), None);
    }

    #[test]
    fn a_latency_setpoint_moves_its_module_one_level_per_check_and_rests_in_its_band() {
        use crate::degrade::policy::LatencySetpoint;
        let policies = vec![DegradationPolicy {
            name: "reasoning-latency".into(),
            when: None,
            setpoint: None,
            latency_setpoint: Some(LatencySetpoint {
                module: "reasoning".into(),
                target_ms: 200.0,
                deadband_pct: 10.0,
            }),
            steps: vec![],
        }];
        assert!(policies[0].problems(&four()).is_empty());
        let mut e = Engine::new();
        let mut step = |now, latency| {
            let mut modules = four();
            modules[2].latency_ms = latency;
            let c = e.check(&Inputs {
                now_ms: now,
                constraints: &[],
                modules: &modules,
                policies: &policies,
                headroom_pct: None,
                memory: None,
                recover: true,
            });
            (c.orders, e.commanded(&modules[2]).level)
        };
        let (orders, level) = step(0, Some(320.0));
        assert_eq!(level, 1);
        assert!(orders.iter().all(|o| o.module == "reasoning"), "only its own module moves: {orders:?}");
        assert_eq!(step(1, Some(300.0)).1, 2, "still above the band: one more level");
        assert_eq!(step(2, Some(215.0)).1, 2, "inside the band: rests");
        assert_eq!(step(3, None).1, 2, "no report: no move");
        assert_eq!(step(4, Some(120.0)).1, 1, "below the band: one level back");
        assert_eq!(step(5, Some(120.0)).1, 0);
        assert_eq!(step(6, Some(120.0)).1, 0, "nothing left to give back");
        let mut critical = policies[0].clone();
        critical.latency_setpoint.as_mut().unwrap().module = "perception".into();
        assert!(critical.problems(&four())[0].message.contains("critical modules are never degraded"));
    }

    #[test]
    fn a_module_name_on_two_nodes_is_told_on_both_and_shed_once() {
        let mut modules = four();
        let mut twin = m("learning", Criticality::Sheddable, &[("augment", 1)], 3);
        twin.node = "n1".into();
        modules.push(twin);
        let mut e = Engine::new();
        let c = run(&mut e, 0, 1, &modules);
        let nodes: BTreeSet<&str> =
            c.orders.iter().filter(|o| o.module == "learning").map(|o| o.node.as_str()).collect();
        assert_eq!(nodes, BTreeSet::from(["local", "n1"]), "{:?}", c.orders);
        assert!(modules[3..].iter().all(|m| e.commanded(m).level == 1), "lowered one level, not two");
        assert_eq!((e.transitions("local", "learning"), e.transitions("n1", "learning")), (1, 1));
    }

    #[test]
    fn sheds_by_tier_least_important_first_and_gives_back_one_step_per_check() {
        let modules = four();
        let mut e = Engine::new();
        let c = run(&mut e, 0, 1, &modules);
        assert!(c.orders.iter().all(|o| o.module == "learning"), "{:?}", c.orders);
        assert!(c.orders[0].reason.contains("memory tier 1"));
        let c = run(&mut e, 1, 3, &modules);
        let touched: Vec<&str> = c.orders.iter().map(|o| o.module.as_str()).collect();
        assert_eq!(touched.first(), Some(&"learning"), "pause the sheddable one first: {touched:?}");
        assert!(touched.contains(&"reasoning") && touched.contains(&"memory"));
        // reasoning loses its least important feature first.
        let feats: Vec<_> = c
            .orders
            .iter()
            .filter_map(|o| match &o.directive {
                Directive::DisableFeature { name } if o.module == "reasoning" => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(feats, ["deep", "explain"]);
        assert_eq!(e.groups().len(), 3);
        // Down to tier 1: what tiers 2 and 3 took comes back as one step, latest first.
        let c = run(&mut e, 2, 1, &modules);
        assert_eq!(restored(&c), ["memory-90", "memory-80"]);
        assert_eq!(c.orders.first().map(|o| o.module.as_str()), Some("memory"), "gives back the most important first");
        assert!(run(&mut e, 3, 1, &modules).orders.is_empty());
        let c = run(&mut e, 4, 0, &modules);
        assert_eq!(restored(&c), ["memory-70"]);
        assert!(modules.iter().all(|m| !e.commanded(m).degraded()));
        // Two checks took from learning, two gave back: no flapping between.
        assert_eq!(e.transitions("local", "learning"), 4);
        assert_eq!(e.transitions("local", "perception"), 0);
    }

    fn restored(c: &Check) -> Vec<String> {
        c.events
            .iter()
            .filter_map(|e| match &e.detail {
                EventDetail::Restored { policy, .. } => Some(policy.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn recovery_waits_while_giving_back_would_refill_memory() {
        let mut modules = four();
        // learning: 400 MB at full quality, 100 MB at its cheapest; it reports 300 MB at level 2
        // because its load tripled.
        modules[3].level_memory_bytes = vec![Some(400), Some(250), Some(100)];
        let mut e = Engine::new();
        run(&mut e, 0, 2, &modules);
        modules[3].reported_level = Some(2);
        modules[3].memory_bytes = Some(300);
        let policies = defaults();
        let gate = |used| MemoryGate { used_bytes: used, budget_bytes: 2000, resume_below_pct: 65.0 };
        let mut check = |now, used| {
            e.check(&Inputs {
                now_ms: now,
                constraints: &[],
                modules: &modules,
                policies: &policies,
                headroom_pct: None,
                memory: Some(gate(used)),
                recover: true,
            })
        };
        // 600 MB used + (1200 − 300) back = 1500 MB = 75 % > 65 %: held.
        assert_eq!(check(1, 600).restored, 0);
        // 300 MB used + 900 = 60 %: given back.
        assert_eq!(check(2, 300).restored, 2);
    }

    #[test]
    fn overrides_pin_force_and_exempt_and_release_gives_back() {
        let modules = four();
        let mut e = Engine::new();
        run(&mut e, 0, 2, &modules);
        let learning = &modules[3];
        assert!(e.commanded(learning).disabled.contains("augment"));
        let o = ModuleOverride {
            module: "learning".into(),
            force_level: Some(1),
            pinned_features: vec!["augment".into()],
            exempt: false,
            by: "ana".into(),
            at_ms: 5,
            reason: String::new(),
        };
        e.set_override(o, 5);
        let orders = e.reconcile_now(&modules, "override");
        let ds: Vec<_> = orders.iter().map(|o| o.directive.clone()).collect();
        assert_eq!(ds, [Directive::EnableFeature { name: "augment".into() }, Directive::SetQuality { level: 1 }]);
        assert!(e.release_override("learning", "ana", 6).is_some());
        let ds: Vec<_> = e.reconcile_now(&modules, "released").into_iter().map(|o| o.directive).collect();
        assert_eq!(ds, [Directive::SetQuality { level: 2 }, Directive::DisableFeature { name: "augment".into() }]);
        assert!(e.release_override("learning", "ana", 7).is_none());
    }

    #[test]
    fn a_setpoint_moves_one_notch_per_check_and_rests_in_its_band() {
        let modules = four();
        let policies = vec![DegradationPolicy {
            name: "hold".into(),
            when: None,
            setpoint: Some(crate::degrade::policy::MemorySetpoint { memory_headroom_pct: 20.0, deadband_pct: 5.0 }),
            latency_setpoint: None,
            steps: vec![],
        }];
        let mut e = Engine::new();
        let mut step = |now, headroom| {
            e.check(&Inputs {
                now_ms: now,
                constraints: &[],
                modules: &modules,
                policies: &policies,
                headroom_pct: Some(headroom),
                memory: None,
                recover: true,
            })
        };
        let c = step(0, 5.0);
        assert_eq!(c.orders.len(), 1);
        assert_eq!(c.orders[0].directive, Directive::DisableFeature { name: "augment".into() });
        let c = step(1, 5.0);
        assert_eq!(c.orders[0].directive, Directive::SetQuality { level: 1 });
        assert!(step(2, 18.0).orders.is_empty(), "inside the band");
        let c = step(3, 40.0);
        assert_eq!(c.orders[0].directive, Directive::SetQuality { level: 0 });
        assert_eq!(c.restored, 1);
    }
}
