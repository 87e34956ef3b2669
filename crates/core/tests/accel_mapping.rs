//! The mapping optimizer against brute force on small heterogeneous fleets, and its safety
//! properties through the allocation engine: never a reserved, held or missing device, never
//! more memory than the device has.

use proptest::prelude::*;
use steward_core::accel::mapping::{Costs, Method, Policy, first_fit, lower_bound, round_robin, solve};
use steward_core::accel::{
    MapTask, Precision, TaskAsk, Workload, WorkloadMode, fleet, placement_request, plan, published_profile,
};
use steward_core::alloc::{
    AllocState, GpuResource, NodeResources, ReservationRequest, Scheduler, SchedulerConfig, SlotAvailability,
};

/// The best makespan over every assignment (the exact optimum), by enumeration.
fn brute_force(c: &Costs) -> f64 {
    let placeable: Vec<usize> = (0..c.tasks).filter(|&t| c.placeable(t)).collect();
    let mut best = f64::INFINITY;
    let mut pick = vec![0usize; placeable.len()];
    loop {
        let mut assign = vec![None; c.tasks];
        for (i, &t) in placeable.iter().enumerate() {
            assign[t] = Some(pick[i]);
        }
        if placeable.iter().all(|&t| c.p(t, assign[t].unwrap()).is_finite()) {
            best = best.min(c.makespan(&assign));
        }
        let mut i = 0;
        while i < pick.len() {
            pick[i] += 1;
            if pick[i] < c.devices {
                break;
            }
            pick[i] = 0;
            i += 1;
        }
        if i == pick.len() {
            return if placeable.is_empty() { 0.0 } else { best };
        }
    }
}

fn costs() -> impl Strategy<Value = Costs> {
    (1usize..=4, 1usize..=7).prop_flat_map(|(d, t)| {
        let cell = prop_oneof![4 => (1u32..100).prop_map(f64::from), 1 => Just(f64::INFINITY)];
        (proptest::collection::vec(proptest::collection::vec(cell, d), t), proptest::collection::vec(0u32..30, d))
            .prop_map(move |(time, avail)| Costs::new(time, avail.into_iter().map(f64::from).collect(), vec![None; d]))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn small_instances_are_solved_to_the_brute_force_optimum(c in costs()) {
        let s = solve(&c, Policy::Time);
        prop_assert_eq!(s.method, Method::Exact);
        let best = brute_force(&c);
        prop_assert!((s.makespan - best).abs() < 1e-9, "mapper {} vs optimum {best}", s.makespan);
        prop_assert!(s.lower_bound <= best * (1.0 + 1e-9), "bound {} above the optimum {best}", s.lower_bound);
        for t in 0..c.tasks {
            prop_assert_eq!(s.assign[t].is_some(), c.placeable(t));
            if let Some(d) = s.assign[t] {
                prop_assert!(c.p(t, d).is_finite(), "task {t} placed where it cannot run");
            }
        }
    }

    #[test]
    fn large_instances_stay_between_the_bound_and_the_baselines(
        seed in any::<u64>(), tasks in 20usize..120, devices in 3usize..30,
    ) {
        let c = generated(seed, tasks, devices);
        let s = solve(&c, Policy::Time);
        // Relative slack: the bound sums thousands of priced times.
        prop_assert!(s.lower_bound <= s.makespan * (1.0 + 1e-9), "bound {} above {}", s.lower_bound, s.makespan);
        prop_assert!(s.makespan <= c.makespan(&first_fit(&c)) + 1e-9);
        prop_assert!(s.makespan <= c.makespan(&round_robin(&c)) + 1e-9);
        for (t, d) in s.assign.iter().enumerate() {
            prop_assert!(d.is_none_or(|d| c.p(t, d).is_finite()));
        }
    }
}

/// Devices of speeds 1–8 (memory-limited: some tasks fit only the big ones).
fn generated(seed: u64, tasks: usize, devices: usize) -> Costs {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let speed: Vec<f64> = (0..devices).map(|_| 1.0 + (next() % 8) as f64).collect();
    let big: Vec<bool> = (0..devices).map(|d| d == 0 || next() % 3 == 0).collect();
    let time = (0..tasks)
        .map(|_| {
            let work = 1.0 + (next() % 100) as f64;
            let needs_big = next() % 4 == 0;
            (0..devices).map(|d| if needs_big && !big[d] { f64::INFINITY } else { work / speed[d] }).collect()
        })
        .collect();
    Costs::new(time, vec![0.0; devices], vec![Some(300.0); devices])
}

#[test]
fn a_mixed_fleet_gets_the_known_optimum_with_reasons() {
    // One H100 and two T4s: the 13B model fits only the H100 (21.5 s there); the two 1B tasks
    // are 15× faster on the H100 too (0.8 s against 12.6 s), but queued behind the big one they
    // would finish after 21.5 s: the optimum spreads them over the T4s.
    let h100 = published_profile("a/gpu0", "a", "NVIDIA H100 80GB HBM3", 80 << 30).unwrap();
    let t4 = |i| published_profile(&format!("b/gpu{i}"), "b", "Tesla T4", 16 << 30).unwrap();
    let slots: Vec<_> = [h100, t4(0), t4(1)]
        .into_iter()
        .map(|profile| steward_core::accel::DeviceSlot { profile, free_in_s: 0.0 })
        .collect();
    let task = |id: &str, params: u64, steps: u64| MapTask {
        id: id.into(),
        workload: Workload {
            parameters: Some(params),
            precision: Precision::F16,
            batch_size: Some(16),
            tokens_per_sample: Some(512),
            steps: Some(steps),
            ..Workload::default()
        },
    };
    let tasks = vec![task("big", 13_000_000_000, 100), task("s1", 1_000_000_000, 50), task("s2", 1_000_000_000, 50)];
    let p = plan(&tasks, &slots, Policy::Time, &[]);
    assert_eq!(p.method, Method::Exact);
    let on = |t: &str| p.placements.iter().find(|x| x.task == t).unwrap();
    assert_eq!(on("big").device, "a/gpu0");
    assert_ne!(on("s1").device, on("s2").device);
    assert!(on("s1").device.starts_with("b/"), "{:?}", on("s1"));
    // The big model's runners-up are empty (nothing else holds 24 GiB), the small ones list the H100.
    assert!(on("big").runners_up.is_empty());
    assert!(on("s1").runners_up.iter().any(|r| r.device == "a/gpu0"));
    assert!(on("big").basis.contains("published peak") && on("big").basis.contains("roofline bound"));
    let brute = brute_force(&Costs::new(
        tasks
            .iter()
            .map(|t| {
                slots
                    .iter()
                    .map(|s| {
                        let n = steward_core::accel::needs::needs(&t.workload);
                        steward_core::accel::analyze::fit(&t.workload, &n, &s.profile, 1.0)
                            .map_or(f64::INFINITY, |e| e.total_s)
                    })
                    .collect()
            })
            .collect(),
        vec![0.0; 3],
        vec![None; 3],
    ));
    assert!((p.makespan_s - brute).abs() < 1e-9);
}

#[test]
fn a_task_no_device_can_hold_is_unplaced_with_the_reasons() {
    let slots = vec![steward_core::accel::DeviceSlot {
        profile: published_profile("b/gpu0", "b", "Tesla T4", 16 << 30).unwrap(),
        free_in_s: 0.0,
    }];
    let w = Workload {
        mode: WorkloadMode::Training,
        parameters: Some(7_000_000_000),
        precision: Precision::Bf16,
        ..Workload::default()
    };
    let p = plan(&[MapTask { id: "t".into(), workload: w }], &slots, Policy::Time, &[]);
    assert!(p.placements.is_empty());
    assert!(p.unplaced[0].reasons[0].contains("no bf16 throughput") || p.unplaced[0].reasons[0].contains("needs"));
}

#[test]
fn the_energy_policy_prefers_the_frugal_device() {
    let c = Costs::new(vec![vec![1.0, 2.0]; 2], vec![0.0, 0.0], vec![Some(700.0), Some(70.0)]);
    let s = solve(&c, Policy::Energy);
    assert_eq!(s.assign, vec![Some(1), Some(1)]);
    assert_eq!(s.energy, 280.0);
    let by_time = solve(&c, Policy::Time);
    assert!(by_time.makespan < s.makespan);
}

fn node(name: &str, gpus: &[(&str, u64)]) -> NodeResources {
    NodeResources {
        node: name.into(),
        cores: 64,
        memory_bytes: 512 << 30,
        labels: Default::default(),
        gpus: gpus
            .iter()
            .enumerate()
            .map(|(i, (model, mem))| GpuResource {
                id: NodeResources::gpu_id(name, i as u32),
                index: i as u32,
                name: (*model).into(),
                memory_bytes: *mem,
                mig: vec![],
            })
            .collect(),
        accelerators: vec![],
    }
}

const MODELS: [(&str, u64); 4] = [
    ("NVIDIA H100 80GB HBM3", 80 << 30),
    ("NVIDIA A100-SXM4-40GB", 40 << 30),
    ("Tesla T4", 16 << 30),
    ("Fake NVIDIA GPU 0", 24 << 30),
];

fn reserve(s: &mut Scheduler, node: &str, gpu: &str) {
    let r = ReservationRequest {
        id: Some(format!("r-{gpu}").replace('/', "-")),
        name: Some(format!("hold {gpu}")),
        owner: "lab".into(),
        node: node.into(),
        gpus: vec![gpu.into()],
        cores: 0,
        memory_bytes: 0,
        start_time: "1970-01-01T00:00:00Z".into(),
        end_time: "1970-01-02T00:00:00Z".into(),
        flags: Default::default(),
        recurrence: None,
    };
    let w = r.validate("r").unwrap();
    s.reserve(&r, w, 0).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mappings_never_use_reserved_missing_or_too_small_devices(
        fleet_spec in proptest::collection::vec(proptest::collection::vec(0usize..4, 1..4), 1..4),
        reserved in proptest::collection::vec(any::<bool>(), 12),
        sizes in proptest::collection::vec(1u64..60, 1..10),
    ) {
        let nodes: Vec<NodeResources> = fleet_spec
            .iter()
            .enumerate()
            .map(|(i, gpus)| node(&format!("n{i}"), &gpus.iter().map(|&m| MODELS[m]).collect::<Vec<_>>()))
            .collect();
        let mut s = Scheduler::new(SchedulerConfig::default(), nodes.clone());
        let mut k = 0;
        for n in &nodes {
            for g in &n.gpus {
                if reserved[k % reserved.len()] {
                    reserve(&mut s, &n.node, &g.id);
                }
                k += 1;
            }
        }
        let now = 1000;
        let slots = s.gpu_slots(now, None);
        let f = fleet(&slots, &[], now);
        let tasks: Vec<MapTask> = sizes
            .iter()
            .enumerate()
            .map(|(i, gb)| MapTask {
                id: format!("t{i}"),
                workload: Workload {
                    parameters: Some(gb * 500_000_000),
                    precision: Precision::F16,
                    batch_size: Some(8),
                    ..Workload::default()
                },
            })
            .collect();
        let p = plan(&tasks, &f.offered, Policy::Time, &[]);
        for pl in &p.placements {
            let slot = slots.iter().find(|x| x.id == pl.device);
            prop_assert!(slot.is_some(), "{} is not a device of the cluster", pl.device);
            let slot = slot.unwrap();
            prop_assert_eq!(&slot.availability, &SlotAvailability::Free, "placed on {:?}", slot);
            let need = tasks.iter().find(|t| t.id == pl.task).unwrap().workload.parameters.unwrap() * 2;
            prop_assert!(need <= slot.memory_bytes, "{} needs {need}, {} has {}", pl.task, slot.id, slot.memory_bytes);
            prop_assert!(!slot.name.starts_with("Fake"), "a device without figures was used");
        }
        prop_assert_eq!(p.placements.len() + p.unplaced.len(), tasks.len());
        // Through the engine: each placement becomes an allocation pinned to its device; it runs
        // there or waits behind the tasks mapped before it — never anywhere else.
        for pl in &p.placements {
            let slot = slots.iter().find(|x| x.id == pl.device).unwrap();
            let ask = TaskAsk { owner: "mapper".into(), cores: 1, memory_bytes: 1 << 30, ..TaskAsk::default() };
            let a = s.allocate(placement_request(pl, slot, &ask), now).unwrap();
            match a.state {
                AllocState::Running => prop_assert_eq!(&a.gpus, &vec![pl.device.clone()]),
                AllocState::Pending => prop_assert!(a.gpus.is_empty()),
                other => prop_assert!(false, "unexpected state {other:?}"),
            }
        }
    }
}

#[test]
fn a_gpu_pin_is_held_by_the_engine_even_against_a_reservation() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a", &[MODELS[0], MODELS[0]])]);
    reserve(&mut s, "a", "a/gpu1");
    let slots = s.gpu_slots(1000, None);
    assert!(
        matches!(&slots[1].availability, SlotAvailability::Unavailable { reason } if reason.contains("hold a/gpu1"))
    );
    let ask = TaskAsk { owner: "mapper".into(), cores: 1, ..TaskAsk::default() };
    let forced = steward_core::accel::Placement {
        task: "x".into(),
        device: "a/gpu1".into(),
        node: "a".into(),
        start_s: 0.0,
        finish_s: 1.0,
        energy_j: None,
        basis: String::new(),
        runners_up: vec![],
    };
    let a = s.allocate(placement_request(&forced, &slots[1], &ask), 1000).unwrap();
    assert_eq!(a.state, AllocState::Pending, "the reservation holds: {a:?}");
    assert!(a.gpus.is_empty());
    let free = s.gpu_slots(1000, None);
    assert_eq!(free[0].availability, SlotAvailability::Free);
    let _ = lower_bound;
}
