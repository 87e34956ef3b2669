//! The accelerator mapper at scale: 1,000 tasks onto 500 heterogeneous GPUs (ten datasheet
//! models, a tenth busy for up to ten minutes), the tasks' times from their rooflines on the
//! published figures (the published-curve workloads).
//! Reports the decision time (slots from the allocation engine, estimates, mapping, bound) and
//! each mapping's makespan against the lower bound, beside round-robin and greedy first-fit
//! on the same estimates in the same run. Goals: ≤ 1.05× the bound, ≥ 1.3× better than
//! round-robin, decision ≤ 100 ms.

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use steward_core::accel::analyze::fit;
use steward_core::accel::mapping::{Policy, first_fit, round_robin, solve};
use steward_core::accel::needs::needs;
use steward_core::accel::plan::estimate_costs;
use steward_core::accel::{MapTask, Precision, Workload, WorkloadMode, fleet, published_profile};
use steward_core::alloc::{
    AllocationRequest, Constraints, GpuResource, NodeResources, ResourceAsk, Scheduler, SchedulerConfig,
};

#[derive(Args)]
pub struct AccelBenchArgs {
    /// Tasks to map.
    #[arg(long, default_value_t = 1_000)]
    tasks: usize,
    /// GPUs, four per node.
    #[arg(long, default_value_t = 500)]
    devices: usize,
    /// Seed of the generated fleet and tasks (same seed, same instance).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Each task runs between these many seconds on an H100 (log-uniform).
    #[arg(long, default_value_t = 60.0)]
    min_task_s: f64,
    /// The longest a task runs on an H100, in seconds.
    #[arg(long, default_value_t = 1200.0)]
    max_task_s: f64,
}

/// (NVML name, memory GiB, share of the fleet in tenths of a percent).
const MODELS: [(&str, u64, u64); 10] = [
    ("NVIDIA H100 80GB HBM3", 80, 120),
    ("NVIDIA H100 PCIe", 80, 80),
    ("NVIDIA A100-SXM4-80GB", 80, 150),
    ("NVIDIA A100-SXM4-40GB", 40, 100),
    ("NVIDIA L40S", 48, 100),
    ("NVIDIA L4", 24, 150),
    ("NVIDIA A10", 24, 100),
    ("Tesla T4", 16, 100),
    ("Tesla V100-SXM2-32GB", 32, 50),
    ("NVIDIA GeForce RTX 4090", 24, 50),
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.unit() * (hi.ln() - lo.ln())).exp()
    }
}

fn cluster(devices: usize, rng: &mut Rng) -> Vec<NodeResources> {
    let total: u64 = MODELS.iter().map(|m| m.2).sum();
    (0..devices.div_ceil(4))
        .map(|n| {
            let mut pick = rng.next() % total;
            let (model, gib, _) = *MODELS
                .iter()
                .find(|m| {
                    (pick < m.2) || {
                        pick -= m.2;
                        false
                    }
                })
                .expect("in range");
            let name = format!("node{n:03}");
            let gpus = (0..4.min(devices - n * 4) as u32)
                .map(|i| GpuResource {
                    id: NodeResources::gpu_id(&name, i),
                    index: i,
                    name: model.into(),
                    memory_bytes: gib << 30,
                    mig: vec![],
                })
                .collect();
            NodeResources {
                node: name,
                cores: 64,
                memory_bytes: 512 << 30,
                labels: Default::default(),
                gpus,
                accelerators: vec![],
            }
        })
        .collect()
}

/// A tenth of the GPUs run something that ends within ten minutes.
fn occupy(s: &mut Scheduler, nodes: &[NodeResources], rng: &mut Rng) {
    for (node, gpu) in nodes.iter().flat_map(|n| n.gpus.iter().map(move |g| (n, g))) {
        if !rng.next().is_multiple_of(10) {
            continue;
        }
        let req = AllocationRequest {
            id: Some(format!("busy-{}", gpu.id.replace('/', "-"))),
            owner: "others".into(),
            resources: ResourceAsk { gpus: 1, gpu_memory_bytes: None, cores: 1, memory_bytes: 1 << 30, min: None },
            priority: None,
            qos: Default::default(),
            duration_s: Some(60 + rng.next() % 540),
            constraints: Constraints { node: Some(node.node.clone()), gpu: Some(gpu.id.clone()), ..Default::default() },
            reservation: None,
            preemption: Default::default(),
            queue: false,
            workload: None,
        };
        let _ = s.allocate(req, 0);
    }
}

/// LLM-shaped work as practice has it: inference of 100M–30B models, training of 100M–3B
/// (it must fit 80 GB with its optimizer), each long enough for 1–20 minutes on an H100.
fn tasks(n: usize, (lo, hi): (f64, f64), rng: &mut Rng) -> Vec<MapTask> {
    let h100 = published_profile("ref", "ref", MODELS[0].0, MODELS[0].1 << 30).expect("a datasheet model");
    (0..n)
        .map(|i| {
            let training = rng.next().is_multiple_of(4);
            let precision = if training {
                [Precision::Bf16, Precision::Bf16, Precision::F16, Precision::F32][(rng.next() % 4) as usize]
            } else {
                [Precision::F16, Precision::Bf16, Precision::Int8, Precision::F32, Precision::F16]
                    [(rng.next() % 5) as usize]
            };
            let mut workload = Workload {
                mode: if training { WorkloadMode::Training } else { WorkloadMode::Inference },
                parameters: Some(rng.log_uniform(1e8, if training { 3e9 } else { 3e10 }) as u64),
                precision,
                batch_size: Some(1 << (rng.next() % 7)),
                tokens_per_sample: Some(256 << (rng.next() % 4)),
                ..Workload::default()
            };
            let n = needs(&workload);
            let step = fit(&workload, &n, &h100, 1.0).map_or(1.0, |e| e.step_s);
            workload.steps = Some((rng.log_uniform(lo, hi) / step).ceil().max(1.0) as u64);
            MapTask { id: format!("t{i:04}"), workload }
        })
        .collect()
}

pub fn run(args: AccelBenchArgs) -> Result<()> {
    let mut rng = Rng(args.seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let nodes = cluster(args.devices, &mut rng);
    let mut sched = Scheduler::new(SchedulerConfig::default(), nodes.clone());
    occupy(&mut sched, &nodes, &mut rng);
    let tasks = tasks(args.tasks, (args.min_task_s, args.max_task_s), &mut rng);
    let now = 1_000;

    let t0 = Instant::now();
    let slots = sched.gpu_slots(now, None);
    let f = fleet(&slots, &[], now);
    let t1 = Instant::now();
    let est = estimate_costs(&tasks, &f.offered, Policy::Time, &[]);
    let t2 = Instant::now();
    let solution = solve(&est.costs, Policy::Time);
    let t3 = Instant::now();
    let c = &est.costs;
    let bound = solution.lower_bound;
    let unplaced = solution.assign.iter().filter(|a| a.is_none()).count();
    let busy = f.offered.iter().filter(|s| s.free_in_s > 0.0).count();

    println!(
        "accel mapping: {} tasks onto {} GPUs ({} busy for a while, {} not offered), {unplaced} tasks fit nowhere",
        tasks.len(),
        f.offered.len(),
        busy,
        f.excluded.len()
    );
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
    println!(
        "decision: {:.1} ms (slots {:.1} ms, estimates {:.1} ms, mapping + bound {:.1} ms; {:?})",
        ms(t0, t3),
        ms(t0, t1),
        ms(t1, t2),
        ms(t2, t3),
        solution.method
    );
    println!("lower bound: {bound:.1} s");
    let rr = c.makespan(&round_robin(c));
    let ff = c.makespan(&first_fit(c));
    for (name, makespan) in [("steward", solution.makespan), ("round-robin", rr), ("greedy first-fit", ff)] {
        println!("{name:>16}: makespan {makespan:>9.1} s = {:.3}× the bound", makespan / bound);
    }
    println!(
        "steward vs round-robin: {:.2}× shorter; vs greedy first-fit: {:.2}× shorter",
        rr / solution.makespan,
        ff / solution.makespan
    );
    Ok(())
}
