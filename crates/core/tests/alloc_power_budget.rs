//! Property test of the scheduler's power budgets: over random requests, ends and budgets, the
//! predicted power of what runs never exceeds a node's or the cluster's budget, and a request
//! held back by one says which budget in its pending reason. The run asserts that budgets really
//! held requests back (and that without budgets the same requests would have started).

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use steward_core::alloc::*;

const NODES: u32 = 3;
const GPUS: u32 = 4;
const CORES: u32 = 16;
const STEP_MS: i64 = 10_000;

fn node(k: u32) -> NodeResources {
    let name = format!("n{k}");
    NodeResources {
        gpus: (0..GPUS)
            .map(|i| GpuResource {
                id: NodeResources::gpu_id(&name, i),
                index: i,
                name: "GPU".into(),
                memory_bytes: 80 << 30,
                mig: vec![],
            })
            .collect(),
        node: name,
        cores: CORES,
        memory_bytes: 64 << 30,
        labels: Default::default(),
        accelerators: vec![],
    }
}

fn budget(node_w: f64, cluster_w: f64) -> PowerBudget {
    PowerBudget {
        node_w: BTreeMap::from([("n0".to_string(), node_w), ("n1".to_string(), node_w)]),
        cluster_w: Some(cluster_w),
        node_idle_w: 100.0,
        gpu_w: 300.0,
        core_w: 10.0,
    }
}

/// Predicted power per node of what runs now, from the allocation records alone.
fn predicted(s: &Scheduler, b: &PowerBudget) -> BTreeMap<String, f64> {
    let mut w: BTreeMap<String, f64> = (0..NODES).map(|k| (format!("n{k}"), b.node_idle_w)).collect();
    for a in s.allocations().iter().filter(|a| a.state == AllocState::Running) {
        *w.get_mut(a.node.as_deref().unwrap()).unwrap() +=
            b.gpu_w * a.gpus.len() as f64 + b.core_w * f64::from(a.cores);
    }
    w
}

fn request(i: usize, gpus: u32, cores: u32, dur: i64) -> AllocationRequest {
    AllocationRequest {
        id: Some(format!("a{i}")),
        owner: "o".into(),
        resources: ResourceAsk { gpus, cores, memory_bytes: 1 << 30, ..Default::default() },
        priority: None,
        qos: Qos::Burstable,
        duration_s: Some((dur * STEP_MS / 1000) as u64),
        constraints: Default::default(),
        reservation: None,
        preemption: Default::default(),
        queue: true,
        workload: None,
    }
}

#[test]
fn what_runs_stays_within_every_power_budget() {
    let held_back = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(Config { cases: 64, ..Config::default() });
    let ops = prop::collection::vec((0u32..=3, 1u32..=8, 1i64..=6, 0i64..=2), 5..40);
    runner
        .run(&(600.0f64..1500.0, 1200.0f64..3500.0, ops), |(node_w, cluster_w, ops)| {
            let b = budget(node_w, cluster_w);
            let config = SchedulerConfig { power_budget: Some(b.clone()), ..SchedulerConfig::default() };
            let mut s = Scheduler::new(config, (0..NODES).map(node).collect());
            let mut now = 0;
            for (i, (gpus, cores, dur, advance)) in ops.into_iter().enumerate() {
                let _ = s.allocate(request(i, gpus, cores, dur), now);
                now += advance * STEP_MS;
                s.tick(now);
                let w = predicted(&s, &b);
                for (n, budget) in &b.node_w {
                    prop_assert!(w[n] <= budget + 1e-9, "node {n}: {} W over {budget} W", w[n]);
                }
                let total: f64 = w.values().sum();
                prop_assert!(total <= cluster_w + 1e-9, "cluster: {total} W over {cluster_w} W");
                for a in s.allocations().iter().filter(|a| a.state == AllocState::Pending) {
                    if let Some(r) = a.pending_reason.as_deref().filter(|r| r.contains("power budget")) {
                        held_back.set(held_back.get() + 1);
                        prop_assert!(r.contains(" W predicted with this request, budget "), "{r}");
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    assert!(held_back.get() > 0, "no request was ever held back by a budget: the test proved nothing");
}

#[test]
fn without_a_budget_the_same_request_starts() {
    let b = budget(700.0, 10_000.0);
    for (power_budget, runs) in [(Some(b), false), (None, true)] {
        let config = SchedulerConfig { power_budget, ..SchedulerConfig::default() };
        let mut s = Scheduler::new(config, vec![node(0)]);
        // 100 idle + 2 × 300 + 4 × 10 = 740 W > 700 W.
        let a = s.allocate(request(0, 2, 4, 1), 0).unwrap();
        assert_eq!(a.state == AllocState::Running, runs, "{a:?}");
        if !runs {
            assert_eq!(
                a.pending_reason.as_deref(),
                Some("waiting for the power budget of node n0: 740 W predicted with this request, budget 700 W")
            );
        }
    }
}
