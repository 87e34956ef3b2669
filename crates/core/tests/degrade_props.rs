//! Property tests of the degradation engine under random constraint sequences: critical
//! modules are never touched, shedding follows rank order, recovery gives back in reverse
//! order, at most one step per check, and everything comes back once constraints clear.

use proptest::prelude::*;
use steward_core::degrade::ladder::shed_rank;
use steward_core::degrade::policy::defaults;
use steward_core::degrade::{
    Constraint, ConstraintKind, DegradationPolicy, Engine, EventDetail, Inputs, ModuleView, PolicyStep, PolicyTrigger,
    StepAction, StepTarget,
};
use steward_core::registration::{Criticality, Directive, Feature};

fn criticality() -> impl Strategy<Value = Criticality> {
    prop_oneof![
        Just(Criticality::Critical),
        Just(Criticality::High),
        Just(Criticality::Normal),
        Just(Criticality::Sheddable)
    ]
}

fn module(i: usize) -> impl Strategy<Value = ModuleView> {
    (criticality(), proptest::collection::vec(0u32..10, 0..4), 1u32..5, 0u32..5).prop_map(
        move |(criticality, ranks, levels, minimal)| ModuleView {
            name: format!("m{i}"),
            node: "local".into(),
            criticality,
            features: ranks.iter().enumerate().map(|(j, &rank)| Feature { name: format!("f{j}"), rank }).collect(),
            levels,
            minimal_level: minimal.min(levels - 1),
            lost: false,
            level_memory_bytes: vec![],
            memory_bytes: None,
            reported_level: None,
            latency_ms: None,
        },
    )
}

fn modules() -> impl Strategy<Value = Vec<ModuleView>> {
    (1usize..6).prop_flat_map(|n| (0..n).map(module).collect::<Vec<_>>())
}

/// Each check: the memory tier (0 = clear) and whether the CPU is saturated.
fn sequence() -> impl Strategy<Value = Vec<(u8, bool)>> {
    proptest::collection::vec((0u8..=4, any::<bool>()), 1..60)
}

fn constraints(mem: u8, cpu: bool) -> Vec<Constraint> {
    let c = |key: &str, kind, tier| Constraint {
        key: key.into(),
        kind,
        tier,
        summary: format!("{key} tier {tier}"),
        evidence: vec![],
        since_ms: 0,
    };
    let mut out = Vec::new();
    if mem > 0 {
        out.push(c("memory", ConstraintKind::Memory, mem));
    }
    if cpu {
        out.push(c("cpu", ConstraintKind::Cpu, 1));
    }
    out
}

/// At its minimal viable functionality: the cheapest level it allows, every feature off.
fn at_minimum(engine: &Engine, m: &ModuleView) -> bool {
    let c = engine.commanded(m);
    c.level == m.minimal_level && c.disabled.len() == m.features.len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_constraints_keep_every_promise(modules in modules(), seq in sequence()) {
        let policies = defaults();
        let mut engine = Engine::new();
        let mut stack: Vec<String> = Vec::new();
        let clear = std::iter::repeat_n((0u8, false), 60);
        for (i, (mem, cpu)) in seq.iter().copied().chain(clear).enumerate() {
            let cs = constraints(mem, cpu);
            let inp = Inputs { now_ms: i as i64 * 1000, constraints: &cs, modules: &modules, policies: &policies, headroom_pct: None, memory: None, recover: i % 3 == 0 };
            let check = engine.check(&inp);
            let by_name = |n: &str| modules.iter().find(|m| m.name == n).unwrap();

            // Critical modules are never sent anything.
            for o in &check.orders {
                prop_assert!(by_name(&o.module).criticality != Criticality::Critical, "{o:?}");
            }
            // One step back per check at most (what one constraint took), latest first.
            let mut restored_kinds = std::collections::BTreeSet::new();
            for e in &check.events {
                match &e.detail {
                    EventDetail::Applied { policy, .. } => stack.push(policy.clone()),
                    EventDetail::Restored { policy, .. } => {
                        restored_kinds.insert(policies.iter().find(|p| &p.name == policy).and_then(|p| p.when.as_ref()).map(|t| t.constraint));
                        let top = stack.pop();
                        prop_assert_eq!(top.as_ref(), Some(policy), "restored out of order");
                    }
                    _ => {}
                }
            }
            prop_assert!(restored_kinds.len() <= 1, "{restored_kinds:?}");
            prop_assert!(inp.recover || restored_kinds.is_empty(), "gave back between scheduled checks");
            // Orders go in shedding order (or its reverse when giving back), features least
            // important first when taken away.
            let ranks: Vec<u8> = check.orders.iter().map(|o| shed_rank(by_name(&o.module).criticality)).collect();
            prop_assert!(ranks.windows(2).all(|w| w[0] <= w[1]) || ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
            for m in &modules {
                let disabled: Vec<u32> = check.orders.iter().filter(|o| o.module == m.name).filter_map(|o| match &o.directive {
                    Directive::DisableFeature { name } => m.features.iter().find(|f| &f.name == name).map(|f| f.rank),
                    _ => None,
                }).collect();
                prop_assert!(disabled.windows(2).all(|w| w[0] >= w[1]), "{disabled:?}");
            }
            // A module is degraded only when every module that sheds before it is at its minimum.
            for m in modules.iter().filter(|m| engine.commanded(m).degraded()) {
                for lower in modules.iter().filter(|l| shed_rank(l.criticality) < shed_rank(m.criticality)) {
                    prop_assert!(at_minimum(&engine, lower), "{} degraded before {} is at its minimum", m.name, lower.name);
                }
            }
        }
        // Cleared for 20 checks: everything is back.
        prop_assert!(engine.groups().is_empty(), "{:?}", engine.groups());
        for m in &modules {
            prop_assert!(!engine.commanded(m).degraded());
        }
    }
}

fn random_policy(i: usize) -> impl Strategy<Value = DegradationPolicy> {
    let action =
        prop_oneof![Just(StepAction::LowerQuality), Just(StepAction::DisableFeatures), Just(StepAction::Pause)];
    let target = prop_oneof![
        criticality().prop_map(StepTarget::Criticality),
        (0usize..6).prop_map(|k| StepTarget::Module(format!("m{k}"))),
    ];
    (1u8..=4, proptest::collection::vec((action, target, proptest::option::of(1u32..3)), 1..4)).prop_map(
        move |(tier, steps)| DegradationPolicy {
            name: format!("p{i}"),
            when: Some(PolicyTrigger { constraint: ConstraintKind::Memory, tier }),
            setpoint: None,
            latency_setpoint: None,
            steps: steps
                .into_iter()
                .map(|(action, target, amount)| PolicyStep {
                    action,
                    target,
                    amount: if action == StepAction::Pause { None } else { amount },
                })
                .collect(),
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Policies written without regard for who is critical (a module may register as critical
    /// after its policy was accepted): the engine still never touches a critical module.
    #[test]
    fn any_policy_leaves_critical_modules_whole(
        modules in modules(),
        policies in (1usize..4).prop_flat_map(|n| (0..n).map(random_policy).collect::<Vec<_>>()),
        seq in sequence(),
    ) {
        let mut engine = Engine::new();
        let clear = std::iter::repeat_n((0u8, false), 20);
        for (i, (mem, cpu)) in seq.iter().copied().chain(clear).enumerate() {
            let cs = constraints(mem, cpu);
            let inp = Inputs { now_ms: i as i64, constraints: &cs, modules: &modules, policies: &policies, headroom_pct: None, memory: None, recover: true };
            let check = engine.check(&inp);
            for o in &check.orders {
                let m = modules.iter().find(|m| m.name == o.module).unwrap();
                prop_assert!(m.criticality != Criticality::Critical, "{o:?}");
            }
            for m in modules.iter().filter(|m| m.criticality == Criticality::Critical) {
                prop_assert!(!engine.commanded(m).degraded());
            }
        }
        prop_assert!(engine.groups().is_empty());
    }
}
