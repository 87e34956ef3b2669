//! The dispatch engine driven by a simulated cluster (discrete time): nodes that are killed,
//! frozen and resumed (late results), slowed, or that fail attempts at random. Whatever
//! happens, every item must end up in the output exactly once, no node runs more than its
//! slots, and no result from a node declared down is accepted.

use std::collections::BTreeMap;

use proptest::prelude::*;
use steward_core::dispatch::*;

struct SimNode {
    name: String,
    slots: u32,
    /// ms per item.
    ms_per_item: i64,
    killed_at: Option<i64>,
    frozen: Option<(i64, i64)>,
}

struct Running {
    node: usize,
    done_at: i64,
    lines: Vec<String>,
    fails: bool,
}

struct Sim {
    nodes: Vec<SimNode>,
    exec: Execution,
    cfg: DispatchConfig,
    running: BTreeMap<String, Running>,
    /// When the failure detector declares each node down.
    detect_ms: i64,
    declared: Vec<bool>,
    /// A kill or freeze is detected once: a node that resumes sends heartbeats again.
    detected: Vec<bool>,
    rng: u64,
    fail_rate: u32,
    accepted_from_down: u32,
}

impl Sim {
    fn new(nodes: Vec<SimNode>, task: TaskSpec, cfg: DispatchConfig, seed: u64, fail_rate: u32) -> Sim {
        let views: Vec<NodeLoad> =
            nodes.iter().map(|n| NodeLoad { name: n.name.clone(), slots: n.slots, busy: 0, available: true }).collect();
        let slots = views.iter().map(|v| v.slots).sum();
        let count = partition_count(&task, slots, cfg.partitions_per_slot);
        let parts = split(&task.input, count);
        let plan = plan(count, &views, &Locality::default(), None, 1.0);
        let exec = Execution::new("e1".into(), task, parts, plan, 0);
        let n = nodes.len();
        Sim {
            nodes,
            exec,
            cfg,
            running: BTreeMap::new(),
            detect_ms: 3000,
            declared: vec![false; n],
            detected: vec![false; n],
            rng: seed | 1,
            fail_rate,
            accepted_from_down: 0,
        }
    }

    fn rand(&mut self) -> u32 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng % 100) as u32
    }

    fn frozen(&self, i: usize, now: i64) -> bool {
        self.nodes[i].frozen.is_some_and(|(a, b)| now >= a && now < b)
    }

    fn dead(&self, i: usize, now: i64) -> bool {
        self.nodes[i].killed_at.is_some_and(|k| now >= k)
    }

    fn views(&self, now: i64) -> Vec<NodeLoad> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| NodeLoad {
                name: n.name.clone(),
                slots: n.slots,
                busy: self.running.values().filter(|r| r.node == i).count() as u32,
                available: !self.declared[i] && !self.dead(i, now),
            })
            .collect()
    }

    fn apply(&mut self, actions: Vec<Action>, now: i64) {
        for a in actions {
            match a {
                Action::Start(o) => {
                    let i = self.nodes.iter().position(|n| n.name == o.node).unwrap();
                    let items = self.exec.partitions[o.partition as usize].input.items() as i64;
                    let PartitionInput::Range { start, end } = self.exec.partitions[o.partition as usize].input.clone()
                    else {
                        panic!()
                    };
                    let fails = self.rand() < self.fail_rate;
                    self.running.insert(
                        o.attempt_id,
                        Running {
                            node: i,
                            done_at: now + items * self.nodes[i].ms_per_item,
                            lines: (start..end).map(|x| format!("item {x}")).collect(),
                            fails,
                        },
                    );
                }
                Action::Cancel { attempt_id, .. } => {
                    self.running.remove(&attempt_id);
                }
            }
        }
    }

    /// Runs to the end; returns the makespan.
    fn run(&mut self) -> i64 {
        let mut now = 0;
        let mut placer = Unconstrained;
        while !self.exec.status.is_terminal() {
            assert!(now < 10_000_000, "never finished: {:?}", self.exec.report(now));
            for i in 0..self.nodes.len() {
                let start = self.nodes[i]
                    .killed_at
                    .or(self.nodes[i].frozen.filter(|(a, b)| b - a > self.detect_ms).map(|f| f.0));
                if !self.detected[i] && start.is_some_and(|s| now >= s + self.detect_ms) {
                    self.detected[i] = true;
                    self.declared[i] = true;
                    let acts = self.exec.node_down(&self.nodes[i].name.clone(), &self.cfg, &mut placer, now);
                    self.apply(acts, now);
                }
                // A frozen node that resumes is up again (its old attempts stay lost).
                if self.declared[i] && self.nodes[i].killed_at.is_none() && !self.frozen(i, now) {
                    self.declared[i] = false;
                }
            }
            let due: Vec<String> = self
                .running
                .iter()
                .filter(|(_, r)| r.done_at <= now && !self.dead(r.node, now) && !self.frozen(r.node, now))
                .map(|(id, _)| id.clone())
                .collect();
            for id in due {
                let Some(r) = self.running.remove(&id) else { continue };
                let was_declared = self
                    .exec
                    .partitions
                    .iter()
                    .flat_map(|p| &p.attempts)
                    .any(|a| a.id == id && a.state == AttemptState::Lost);
                let (acc, acts) = self.exec.finished(
                    &id,
                    !r.fails,
                    r.lines,
                    r.fails.then(|| "exit 1".into()),
                    &self.cfg,
                    &mut placer,
                    now,
                );
                if was_declared && acc == Accepted::Won {
                    self.accepted_from_down += 1;
                }
                self.apply(acts, now);
            }
            let mut views = self.views(now);
            let acts = self.exec.tick(&mut views, &Locality::default(), &self.cfg, &mut placer, now);
            self.apply(acts, now);
            // An execution that wants no timer starts nothing however long nothing happens.
            if !self.exec.wants_timer(&self.cfg) {
                let later = now + 60_000;
                let mut views = self.views(now);
                let acts = self.exec.clone().tick(&mut views, &Locality::default(), &self.cfg, &mut placer, later);
                assert!(acts.is_empty(), "wants no timer yet a later tick acts: {acts:?}");
            }
            for (i, v) in self.views(now).iter().enumerate() {
                assert!(v.busy <= self.nodes[i].slots, "node {} runs {} > {} slots", v.name, v.busy, v.slots);
            }
            now += 10;
        }
        now
    }
}

fn node(name: &str, slots: u32, ms_per_item: i64) -> SimNode {
    SimNode { name: name.into(), slots, ms_per_item, killed_at: None, frozen: None }
}

fn range_task(items: u64) -> TaskSpec {
    TaskSpec::new(vec!["work".into(), "{start}".into(), "{end}".into()], InputSpec::Range { start: 0, end: items })
}

fn every_item_once(exec: &Execution, items: u64) {
    let out: Vec<String> = exec.output().cloned().collect();
    let want: Vec<String> = (0..items).map(|x| format!("item {x}")).collect();
    assert_eq!(out, want);
}

#[test]
fn a_killed_node_is_retried_elsewhere_and_a_frozen_ones_late_results_are_discarded() {
    let mut nodes = vec![node("a", 2, 10), node("b", 2, 10), node("c", 2, 10), node("d", 2, 10)];
    nodes[1].killed_at = Some(500);
    nodes[2].frozen = Some((400, 4400));
    let mut sim = Sim::new(nodes, range_task(4000), DispatchConfig::default(), 7, 0);
    sim.run();
    assert_eq!(sim.exec.status, ExecStatus::Succeeded);
    every_item_once(&sim.exec, 4000);
    assert!(sim.exec.retries >= 2, "{:?}", sim.exec.report(0));
    assert!(sim.exec.discarded_results >= 1, "the frozen node's late results: {:?}", sim.exec.report(0));
    assert_eq!(sim.accepted_from_down, 0);
    // Every partition the killed node held ran again elsewhere (the frozen node, once back, may
    // take retries when nothing else is free).
    for p in &sim.exec.partitions {
        let lost: Vec<&Attempt> =
            p.attempts.iter().filter(|a| a.state == AttemptState::Lost && a.node == "b").collect();
        for l in lost {
            let after = p.attempts.iter().find(|a| a.number > l.number).expect("retried");
            assert_ne!(after.node, l.node);
        }
    }
}

#[test]
fn a_slow_node_barely_stretches_the_makespan() {
    let healthy = || vec![node("a", 2, 10), node("b", 2, 10), node("c", 2, 10)];
    let mut three = Sim::new(healthy(), range_task(2400), DispatchConfig::default(), 1, 0);
    let base = three.run();
    let mut four = healthy();
    four.push(node("slow", 2, 100));
    let mut sim = Sim::new(four, range_task(2400), DispatchConfig::default(), 1, 0);
    let slowed = sim.run();
    every_item_once(&sim.exec, 2400);
    assert!(sim.exec.speculative_copies > 0);
    assert!(slowed as f64 <= base as f64 * 1.1, "makespan {slowed} ms vs {base} ms on the healthy nodes alone");
}

#[test]
fn retries_resume_from_the_last_checkpoint_with_backoff() {
    let cfg = DispatchConfig::default();
    let mut t = range_task(10);
    t.partitions = Some(1);
    let mut e = Execution::new("e".into(), t, split(&InputSpec::Range { start: 0, end: 10 }, 1), vec![None], 0);
    let mut nodes = vec![
        NodeLoad { name: "a".into(), slots: 1, busy: 0, available: true },
        NodeLoad { name: "b".into(), slots: 1, busy: 0, available: true },
    ];
    let acts = e.tick(&mut nodes, &Locality::default(), &cfg, &mut Unconstrained, 0);
    let Action::Start(first) = &acts[0] else { panic!() };
    e.observe(&first.attempt_id, Some(0.5), Some("step=5".into()), &["half".into()], 10);
    let (acc, _) = e.finished(&first.attempt_id, false, vec![], Some("killed".into()), &cfg, &mut Unconstrained, 100);
    assert_eq!(acc, Accepted::Failed);
    let mut nodes = vec![
        NodeLoad { name: first.node.clone(), slots: 1, busy: 0, available: true },
        NodeLoad { name: "other".into(), slots: 1, busy: 0, available: true },
    ];
    assert!(e.tick(&mut nodes, &Locality::default(), &cfg, &mut Unconstrained, 200).is_empty(), "backoff");
    let acts = e.tick(&mut nodes, &Locality::default(), &cfg, &mut Unconstrained, 100 + cfg.backoff_base_ms);
    let Action::Start(second) = &acts[0] else { panic!() };
    assert_eq!(second.resume.as_deref(), Some("step=5"));
    assert_eq!(second.node, "other", "another node");
}

#[test]
fn replicas_run_on_distinct_nodes_and_the_first_result_wins() {
    let cfg = DispatchConfig::default();
    let mut t = range_task(4);
    t.partitions = Some(1);
    t.replicas = 2;
    let mut e = Execution::new("e".into(), t, split(&InputSpec::Range { start: 0, end: 4 }, 1), vec![None], 0);
    let mut nodes: Vec<NodeLoad> =
        ["a", "b", "c"].iter().map(|n| NodeLoad { name: n.to_string(), slots: 4, busy: 0, available: true }).collect();
    let acts = e.tick(&mut nodes, &Locality::default(), &cfg, &mut Unconstrained, 0);
    let starts: Vec<&StartOrder> =
        acts.iter().filter_map(|a| if let Action::Start(o) = a { Some(o) } else { None }).collect();
    assert_eq!(starts.len(), 2);
    assert_ne!(starts[0].node, starts[1].node);
    let (acc, acts) = e.finished(&starts[1].attempt_id, true, vec!["r".into()], None, &cfg, &mut Unconstrained, 50);
    assert_eq!(acc, Accepted::Won);
    assert_eq!(acts, [Action::Cancel { attempt_id: starts[0].attempt_id.clone(), node: starts[0].node.clone() }]);
    assert_eq!(
        e.finished(&starts[0].attempt_id, true, vec!["late".into()], None, &cfg, &mut Unconstrained, 60).0,
        Accepted::Discarded
    );
    assert_eq!(e.output().collect::<Vec<_>>(), ["r"]);
}

#[test]
fn attempts_are_placed_through_the_allocation_engine() {
    use steward_core::alloc::{NodeResources, Scheduler, SchedulerConfig};
    let res = |n: &str| NodeResources {
        node: n.into(),
        cores: 2,
        memory_bytes: 1 << 30,
        labels: Default::default(),
        gpus: vec![],
        accelerators: vec![],
    };
    let mut sched = Scheduler::new(SchedulerConfig::default(), vec![res("a"), res("b")]);
    let cfg = DispatchConfig::default();
    let mut t = range_task(100);
    t.partitions = Some(10);
    let mut e = Execution::new("e".into(), t, split(&InputSpec::Range { start: 0, end: 100 }, 10), vec![None; 10], 0);
    // The balancer offers 8 slots per node; the engine has 2 cores per node to give.
    let mut nodes: Vec<NodeLoad> =
        ["a", "b"].iter().map(|n| NodeLoad { name: n.to_string(), slots: 8, busy: 0, available: true }).collect();
    let acts = e.tick(&mut nodes, &Locality::default(), &cfg, &mut sched, 0);
    assert_eq!(acts.len(), 4);
    assert_eq!(sched.allocations().iter().filter(|a| a.state == steward_core::alloc::AllocState::Running).count(), 4);
    let Action::Start(o) = &acts[0] else { panic!() };
    e.finished(&o.attempt_id, true, vec![], None, &cfg, &mut sched, 10);
    assert_eq!(sched.allocations().iter().filter(|a| a.state == steward_core::alloc::AllocState::Running).count(), 3);
}

proptest! {
    // Each case simulates a whole job: fewer cases than the default 256, unless PROPTEST_CASES says.
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48)))]
    /// Random kills, freezes, slow nodes and failing attempts: every item exactly once, slots
    /// never exceeded, nothing accepted from a node declared down.
    #[test]
    fn every_item_exactly_once_whatever_fails(
        seed in 1u64..u64::MAX,
        items in 1u64..600,
        speeds in proptest::collection::vec(1i64..40, 3..6),
        kill in proptest::option::of((0usize..6, 0i64..3000)),
        freeze in proptest::option::of((0usize..6, 0i64..3000, 500i64..8000)),
        fail_rate in 0u32..30,
        replicas in 1u32..3,
    ) {
        let mut nodes: Vec<SimNode> = speeds.iter().enumerate().map(|(i, &s)| node(&format!("n{i}"), 1 + (i as u32 % 3), s)).collect();
        let n = nodes.len();
        if let Some((k, at)) = kill { nodes[k % n].killed_at = Some(at); }
        if let Some((f, at, len)) = freeze {
            // Keep at least one node healthy, so the job can finish.
            let f = f % n;
            if kill.is_none_or(|(k, _)| k % n != f || n > 2) { nodes[f].frozen = Some((at, at + len)); }
        }
        let mut task = range_task(items);
        task.replicas = replicas;
        task.max_attempts = Some(50);
        let mut sim = Sim::new(nodes, task, DispatchConfig::default(), seed, fail_rate);
        sim.run();
        prop_assert_eq!(sim.exec.status, ExecStatus::Succeeded);
        every_item_once(&sim.exec, items);
        prop_assert_eq!(sim.accepted_from_down, 0);
        for p in &sim.exec.partitions {
            prop_assert_eq!(p.attempts.iter().filter(|a| a.state == AttemptState::Succeeded).count(), 1);
        }
    }
}
