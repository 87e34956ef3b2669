//! Scheduling decisions per second: 5,000 nodes × 8 GPUs, 50,000 queued requests, every decision
//! committed to SQLite before it counts — without and with preemption churn. Each phase runs
//! twice in the same run: with group commit (a scheduling pass, or a group of requests that
//! arrived together, commits in one transaction before any of its decisions is acknowledged)
//! and with the baseline of one transaction per decision. Compared with the Kubernetes
//! scheduler's published floors on 5,000 simulated nodes (810 pods/s, and 570 pods/s with
//! preemption); the goal is 50× those.

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use steward_core::alloc::{
    AllocState, AllocationRequest, Changes, GpuResource, NodeResources, PreemptionMode, PreemptionPolicy, Priority,
    Qos, ResourceAsk, Scheduler, SchedulerConfig,
};
use steward_store::Store;

const K8S_FLOOR: f64 = 810.0;
const K8S_FLOOR_PREEMPTION: f64 = 570.0;

#[derive(Args)]
pub struct AllocBenchArgs {
    /// Simulated nodes.
    #[arg(long, default_value_t = 5_000)]
    nodes: u32,
    /// GPUs on each node.
    #[arg(long, default_value_t = 8)]
    gpus_per_node: u32,
    /// Requests queued before the measured decisions.
    #[arg(long, default_value_t = 50_000)]
    pending: u32,
    /// Critical requests to grant by preemption in the churn phase (each needs 1–8 GPUs of the
    /// scavenger work filling the cluster).
    #[arg(long, default_value_t = 5_000)]
    preemptions: u32,
    /// Requests arriving together in the churn phase, decided and committed as one group.
    #[arg(long, default_value_t = 64)]
    group: u32,
}

fn nodes(n: u32, gpus: u32) -> Vec<NodeResources> {
    (0..n)
        .map(|i| {
            let name = format!("node{i:05}");
            NodeResources {
                gpus: (0..gpus)
                    .map(|g| GpuResource {
                        id: NodeResources::gpu_id(&name, g),
                        index: g,
                        name: "H100".into(),
                        memory_bytes: 80 << 30,
                        mig: vec![],
                    })
                    .collect(),
                node: name,
                cores: 128,
                memory_bytes: 1 << 40,
                labels: Default::default(),
                accelerators: vec![],
            }
        })
        .collect()
}

/// A deterministic mix (LCG, fixed seed) of 1/2/4/8-GPU requests.
fn request(
    i: u32,
    seed: &mut u64,
    priority: i32,
    qos: Qos,
    duration_s: Option<u64>,
    mode: PreemptionMode,
) -> AllocationRequest {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let gpus = [1, 1, 1, 2, 2, 4, 8][(*seed >> 33) as usize % 7];
    AllocationRequest {
        id: Some(format!("b{i}")),
        owner: format!("user{}", (*seed >> 40) % 50),
        resources: ResourceAsk {
            gpus,
            gpu_memory_bytes: None,
            cores: gpus * 8,
            memory_bytes: (gpus as u64) << 34,
            min: None,
        },
        priority: Some(Priority::Value(priority)),
        qos,
        duration_s,
        constraints: Default::default(),
        reservation: None,
        preemption: PreemptionPolicy { mode, grace_s: 0 },
        queue: true,
        workload: None,
    }
}

/// How decisions reach the disk.
#[derive(Clone, Copy, PartialEq)]
enum Commit {
    /// Everything decided together in one transaction.
    Group,
    /// Baseline: each changed allocation in its own transaction.
    EachDecision,
}

fn commit(store: &mut Store, changes: Changes, how: Commit) -> Result<()> {
    if how == Commit::Group {
        return Ok(store.commit_allocation_changes(&changes, None)?);
    }
    for a in changes.allocations {
        store.commit_allocation_changes(&Changes { allocations: vec![a], ..Default::default() }, None)?;
    }
    if !changes.events.is_empty() {
        store.commit_allocation_changes(&Changes { events: changes.events, ..Default::default() }, None)?;
    }
    Ok(())
}

struct Figure {
    decisions: u64,
    wall: f64,
    engine: Duration,
    victims: u64,
}

impl Figure {
    fn rate(&self) -> f64 {
        self.decisions as f64 / self.wall
    }
}

/// Phase 1: drain the queue. Requests last 1–60 min; time advances a minute per pass so
/// finished ones free room.
fn drain(args: &AllocBenchArgs, store: &mut Store, how: Commit) -> Result<Figure> {
    let mut sched = Scheduler::new(SchedulerConfig::default(), nodes(args.nodes, args.gpus_per_node));
    let (mut seed, mut now) = (42u64, 1_750_000_000_000i64);
    for i in 0..args.pending {
        let d = 60 + (i as u64 * 7919) % 3540;
        sched
            .enqueue(request(i, &mut seed, 500, Qos::Burstable, Some(d), PreemptionMode::Requeue), now)
            .map_err(|r| anyhow::anyhow!(r.error))?;
    }
    // Admission is durable before a request is acknowledged, as in the server: committed here,
    // untimed, so the timed phase writes what scheduling changes.
    store.commit_allocation_changes(&sched.take_changes(), None)?;
    let started = Instant::now();
    let mut engine = Duration::ZERO;
    while sched.queued() > 0 {
        let t = Instant::now();
        sched.tick(now);
        engine += t.elapsed();
        commit(store, sched.take_changes(), how)?;
        now += 60_000;
    }
    Ok(Figure { decisions: sched.stats.placed, wall: started.elapsed().as_secs_f64(), engine, victims: 0 })
}

/// Phase 2: every GPU holds open-ended scavenger work; critical requests arrive in groups and
/// each must preempt (victims are cancelled so the queue stays the churn itself).
fn churn(args: &AllocBenchArgs, store: &mut Store, how: Commit) -> Result<Figure> {
    let mut sched = Scheduler::new(SchedulerConfig::default(), nodes(args.nodes, args.gpus_per_node));
    let (mut seed, mut now) = (7u64, 1_750_000_000_000i64);
    for i in 0..args.nodes * args.gpus_per_node {
        let mut r = request(1_000_000 + i, &mut seed, 0, Qos::BestEffort, None, PreemptionMode::Cancel);
        r.resources.gpus = 1;
        r.resources.cores = 8;
        sched.enqueue(r, now).map_err(|r| anyhow::anyhow!(r.error))?;
    }
    sched.schedule(now);
    // The preemption indexes refresh lazily, at the first search after a change: one untimed
    // preempting request settles what filling the cluster left, as filling it did before.
    let warm = request(1_999_999, &mut 0, 1000, Qos::Guaranteed, None, PreemptionMode::Cancel);
    sched.allocate(warm, now).map_err(|r| anyhow::anyhow!(r.error))?;
    store.commit_allocation_changes(&sched.take_changes(), None)?;
    let before = sched.stats.preemptions;
    let started = Instant::now();
    let mut engine = Duration::ZERO;
    let mut decisions = 0u64;
    let mut i = 0;
    while i < args.preemptions {
        now += 1;
        let t = Instant::now();
        let group_end = (i + args.group.max(1)).min(args.preemptions);
        for k in i..group_end {
            let r = request(
                2_000_000 + k,
                &mut seed,
                1000 - (k % 400) as i32,
                Qos::Guaranteed,
                None,
                PreemptionMode::Cancel,
            );
            let granted = sched.allocate(r, now).map_err(|r| anyhow::anyhow!(r.error))?;
            decisions += (granted.state == AllocState::Running) as u64;
        }
        engine += t.elapsed();
        // The group's grants, victims and events are durable before any grant is answered.
        commit(store, sched.take_changes(), how)?;
        i = group_end;
    }
    Ok(Figure { decisions, wall: started.elapsed().as_secs_f64(), engine, victims: sched.stats.preemptions - before })
}

pub fn run(args: AllocBenchArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut db = 0;
    let mut store = || -> Result<Store> {
        db += 1;
        Ok(Store::open(&dir.path().join(format!("bench{db}.db")))?)
    };
    let phases = crate::progress::Phases::new();
    println!(
        "allocation benchmark: {} nodes × {} GPUs, {} queued requests, SQLite (WAL) commit before a decision counts (1 core)",
        args.nodes, args.gpus_per_node, args.pending
    );
    phases.set("queue drain, one transaction per decision (baseline)");
    let base = drain(&args, &mut store()?, Commit::EachDecision)?;
    phases.set("queue drain, group commit");
    let group = drain(&args, &mut store()?, Commit::Group)?;
    phases.say(format!("  queue drain, no preemption ({} placements):", group.decisions));
    phases.say(format!(
        "    group commit per scheduling pass: {:.0} decisions/s (engine alone {:.0}/s)",
        group.rate(),
        group.decisions as f64 / group.engine.as_secs_f64()
    ));
    phases.say(format!(
        "    baseline, one transaction per decision: {:.0} decisions/s → {:.1}× the baseline",
        base.rate(),
        group.rate() / base.rate()
    ));
    phases.say(format!("    vs Kubernetes floor {K8S_FLOOR} pods/s: {:.1}× (goal 50×)", group.rate() / K8S_FLOOR));

    phases.set("preemption churn, one transaction per decision (baseline)");
    let base = churn(&args, &mut store()?, Commit::EachDecision)?;
    phases.set("preemption churn, group commit");
    let group = churn(&args, &mut store()?, Commit::Group)?;
    phases.say(format!(
        "  preemption churn ({} grants, {} victims; groups of {}):",
        group.decisions, group.victims, args.group
    ));
    phases.say(format!(
        "    group commit: {:.0} decisions/s (engine alone {:.0}/s)",
        group.rate(),
        group.decisions as f64 / group.engine.as_secs_f64()
    ));
    phases.say(format!(
        "    baseline, one transaction per decision: {:.0} decisions/s → {:.1}× the baseline",
        base.rate(),
        group.rate() / base.rate()
    ));
    phases.say(format!(
        "    vs Kubernetes floor {K8S_FLOOR_PREEMPTION} pods/s with preemption: {:.1}× (goal 50×)",
        group.rate() / K8S_FLOOR_PREEMPTION
    ));
    Ok(())
}
