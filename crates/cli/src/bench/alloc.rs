//! Scheduling decisions per second: 5,000 nodes × 8 GPUs, 50,000 queued requests, each decision
//! committed to SQLite in its own transaction — without and with preemption churn. Compared
//! with the Kubernetes scheduler's published floors on 5,000 simulated nodes (810 pods/s, and
//! 570 pods/s with preemption); the goal is 50× those.

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use steward_core::alloc::{
    AllocState, AllocationRequest, GpuResource, NodeResources, PreemptionMode, PreemptionPolicy, Priority, Qos, ResourceAsk, Scheduler,
    SchedulerConfig,
};
use steward_store::Store;

const K8S_FLOOR: f64 = 810.0;
const K8S_FLOOR_PREEMPTION: f64 = 570.0;

#[derive(Args)]
pub struct AllocBenchArgs {
    #[arg(long, default_value_t = 5_000)]
    nodes: u32,
    #[arg(long, default_value_t = 8)]
    gpus_per_node: u32,
    #[arg(long, default_value_t = 50_000)]
    pending: u32,
    /// Critical requests to grant by preemption in the churn phase (each needs 1–8 GPUs of the
    /// scavenger work filling the cluster).
    #[arg(long, default_value_t = 5_000)]
    preemptions: u32,
}

fn nodes(n: u32, gpus: u32) -> Vec<NodeResources> {
    (0..n)
        .map(|i| {
            let name = format!("node{i:05}");
            NodeResources {
                gpus: (0..gpus)
                    .map(|g| GpuResource { id: NodeResources::gpu_id(&name, g), index: g, name: "H100".into(), memory_bytes: 80 << 30, mig: vec![] })
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
fn request(i: u32, seed: &mut u64, priority: i32, qos: Qos, duration_s: Option<u64>, mode: PreemptionMode) -> AllocationRequest {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let gpus = [1, 1, 1, 2, 2, 4, 8][(*seed >> 33) as usize % 7];
    AllocationRequest {
        id: Some(format!("b{i}")),
        owner: format!("user{}", (*seed >> 40) % 50),
        resources: ResourceAsk { gpus, gpu_memory_bytes: None, cores: gpus * 8, memory_bytes: (gpus as u64) << 34, min: None },
        priority: Some(Priority::Value(priority)),
        qos,
        duration_s,
        constraints: Default::default(),
        reservation: None,
        preemption: PreemptionPolicy { mode, grace_s: 0 },
        queue: true,
    }
}

/// Commits each changed allocation (one decision) in its own transaction; returns how many.
fn commit_each(store: &mut Store, sched: &mut Scheduler) -> Result<u64> {
    let changes = sched.take_changes();
    let mut decisions = 0;
    for a in changes.allocations {
        let one = steward_core::alloc::Changes { allocations: vec![a], ..Default::default() };
        store.commit_allocation_changes(&one, None)?;
        decisions += 1;
    }
    if !changes.events.is_empty() {
        store.commit_allocation_changes(&steward_core::alloc::Changes { events: changes.events, ..Default::default() }, None)?;
    }
    Ok(decisions)
}

pub fn run(args: AllocBenchArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(&dir.path().join("bench.db"))?;
    let mut sched = Scheduler::new(SchedulerConfig::default(), nodes(args.nodes, args.gpus_per_node));
    let mut seed = 42u64;
    let mut now = 1_750_000_000_000i64;
    println!(
        "allocation benchmark: {} nodes × {} GPUs, {} queued requests, one SQLite transaction per decision (1 core)",
        args.nodes, args.gpus_per_node, args.pending
    );

    // Phase 1: drain the queue. Requests last 1–60 min; time advances so finished ones free room.
    for i in 0..args.pending {
        let d = 60 + (i as u64 * 7919) % 3540;
        sched.enqueue(request(i, &mut seed, 500, Qos::Burstable, Some(d), PreemptionMode::Requeue), now).map_err(|r| anyhow::anyhow!(r.error))?;
    }
    sched.take_changes();
    let started = Instant::now();
    let mut engine = Duration::ZERO;
    let mut placed_before = sched.stats.placed;
    let mut decisions = 0u64;
    while sched.allocations().iter().any(|a| a.state == AllocState::Pending) {
        let t = Instant::now();
        sched.tick(now);
        engine += t.elapsed();
        decisions += sched.stats.placed - placed_before;
        placed_before = sched.stats.placed;
        commit_each(&mut store, &mut sched)?;
        now += 60_000;
    }
    let wall = started.elapsed().as_secs_f64();
    let rate = decisions as f64 / wall;
    println!("  without preemption: {decisions} placements in {wall:.2} s = {rate:.0} decisions/s (engine alone {:.0}/s)", decisions as f64 / engine.as_secs_f64());
    println!("    vs Kubernetes floor {K8S_FLOOR} pods/s: {:.1}× (goal 50×)", rate / K8S_FLOOR);

    // Phase 2: fill every GPU with open-ended scavenger work, then submit critical requests that
    // each must preempt (victims are cancelled so the queue stays the churn itself).
    let mut sched = Scheduler::new(SchedulerConfig::default(), nodes(args.nodes, args.gpus_per_node));
    let total_gpus = args.nodes * args.gpus_per_node;
    for i in 0..total_gpus {
        let mut r = request(1_000_000 + i, &mut seed, 0, Qos::BestEffort, None, PreemptionMode::Cancel);
        r.resources.gpus = 1;
        r.resources.cores = 8;
        sched.enqueue(r, now).map_err(|r| anyhow::anyhow!(r.error))?;
    }
    sched.schedule(now);
    let mut store = Store::open(&dir.path().join("bench2.db"))?;
    sched.take_changes();
    let before = sched.stats.preemptions;
    let started = Instant::now();
    let mut decisions = 0u64;
    for i in 0..args.preemptions {
        now += 1;
        let r = request(2_000_000 + i, &mut seed, 1000 - (i % 400) as i32, Qos::Guaranteed, None, PreemptionMode::Cancel);
        let granted = sched.allocate(r, now).map_err(|r| anyhow::anyhow!(r.error))?;
        let changes = sched.take_changes();
        // The decision (the grant, its victims and the events) commits as one transaction.
        store.commit_allocation_changes(&changes, None)?;
        if granted.state == AllocState::Running {
            decisions += 1;
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let preempted = sched.stats.preemptions - before;
    let rate = decisions as f64 / wall;
    println!("  with preemption churn: {decisions} grants ({preempted} victims) in {wall:.2} s = {rate:.0} decisions/s");
    println!("    vs Kubernetes floor {K8S_FLOOR_PREEMPTION} pods/s with preemption: {:.1}× (goal 50×)", rate / K8S_FLOOR_PREEMPTION);
    Ok(())
}
