//! Property tests over random request/reservation/cancel/time sequences, each step checked
//! against a brute-force reading of the records: no over-commit, nothing runs inside a
//! reservation it does not name, a request never waits while lower priorities it could preempt
//! hold what it needs (whole GPUs — a GPU frees when all its sharers go —, or memory of one GPU
//! for a share), nothing starts on a node that is not up, guaranteed QoS is never
//! preempted. The run also asserts that the interesting cases (preemptions — by shares too —,
//! refused overlaps, backfills) really happened.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use steward_core::alloc::time::format_rfc3339;
use steward_core::alloc::*;

const NODES: u32 = 3;
const GPUS: u32 = 4;
const CORES: u32 = 16;
const MEM: u64 = 64 << 30;
const STEP_MS: i64 = 10_000;
const GPU_MEM: u64 = 80 << 30;

#[derive(Debug, Clone)]
enum Op {
    /// `share`: a share of one GPU, in tenths of its memory (then `gpus` is 1).
    Allocate {
        gpus: u32,
        share: Option<u64>,
        cores: u32,
        prio: i32,
        qos: u8,
        dur: Option<i64>,
        min: bool,
        grace: bool,
        mode: u8,
        resv: Option<usize>,
    },
    Reserve {
        node: u32,
        gpus: Vec<u32>,
        cores: u32,
        start: i64,
        len: i64,
        overlap: bool,
        ignore_running: bool,
    },
    Move {
        k: usize,
        start: i64,
        gpu: u32,
    },
    Delete {
        k: usize,
    },
    Cancel {
        k: usize,
    },
    Advance {
        steps: i64,
    },
    /// The failure detector's word on a node (0 up, 1 suspect, 2 draining, 3 down), or 4: removed.
    Health {
        node: u32,
        state: u8,
    },
}

/// A node that is not up, as the test follows it.
#[derive(Debug, Clone)]
struct Unavailable {
    removed: bool,
    down_since: Option<i64>,
    /// What ran there when it became unavailable: nothing else may start there.
    running: Vec<String>,
    state: u8,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..=GPUS, prop::option::weighted(0.3, 1..=9u64), 0..=6u32, prop::sample::select(vec![0, 250, 500, 750, 1000]), 0..3u8, prop::option::of(1..=20i64), any::<bool>(), prop::bool::weighted(0.2), 0..3u8, prop::option::weighted(0.15, 0..4usize))
            .prop_map(|(gpus, share, cores, prio, qos, dur, min, grace, mode, resv)| Op::Allocate { gpus, share, cores, prio, qos, dur, min, grace, mode, resv }),
        2 => (0..NODES, prop::collection::btree_set(0..GPUS, 1..=2), prop::sample::select(vec![0, 0, 4, 9]), 0..60i64, 1..=20i64, prop::bool::weighted(0.1), prop::bool::weighted(0.3))
            .prop_map(|(node, gpus, cores, start, len, overlap, ignore_running)| Op::Reserve { node, gpus: gpus.into_iter().collect(), cores, start, len, overlap, ignore_running }),
        1 => (0..8usize, 0..60i64, 0..GPUS).prop_map(|(k, start, gpu)| Op::Move { k, start, gpu }),
        1 => (0..8usize).prop_map(|k| Op::Delete { k }),
        2 => (0..64usize).prop_map(|k| Op::Cancel { k }),
        3 => (1..=15i64).prop_map(|steps| Op::Advance { steps }),
        1 => (0..NODES, prop::sample::select(vec![0u8, 0, 1, 2, 3, 3, 4])).prop_map(|(node, state)| Op::Health { node, state }),
    ]
}

fn nodes() -> Vec<NodeResources> {
    (0..NODES)
        .map(|n| {
            let name = format!("n{n}");
            NodeResources {
                gpus: (0..GPUS)
                    .map(|i| GpuResource {
                        id: NodeResources::gpu_id(&name, i),
                        index: i,
                        name: "GPU".into(),
                        memory_bytes: GPU_MEM,
                        mig: vec![],
                    })
                    .collect(),
                node: name,
                cores: CORES,
                memory_bytes: MEM,
                labels: Default::default(),
                accelerators: vec![],
            }
        })
        .collect()
}

struct World {
    s: Scheduler,
    now: i64,
    next: u32,
    resv_ids: Vec<String>,
    alloc_ids: Vec<String>,
    /// Preemptions whose preemptor is a share of a GPU.
    share_preemptions: u64,
    unavailable: HashMap<String, Unavailable>,
    /// Sharers of a GPU preempted by a whole-GPU request.
    sharers_preempted: u64,
    /// Allocations given up by a node that went down or was removed.
    given_up: u64,
}

impl World {
    fn apply(&mut self, op: &Op) {
        let now = self.now;
        match op.clone() {
            Op::Allocate { gpus, share, cores, prio, qos, dur, min, grace, mode, resv } => {
                self.next += 1;
                let id = format!("a{}", self.next);
                let qos = [Qos::Guaranteed, Qos::Burstable, Qos::BestEffort][qos as usize];
                let mode = [PreemptionMode::Requeue, PreemptionMode::Suspend, PreemptionMode::Cancel][mode as usize];
                let min = (min && qos != Qos::Guaranteed).then_some(ResourceAmount {
                    gpus: gpus / 2,
                    cores: cores / 2,
                    memory_bytes: 1 << 30,
                });
                let req = AllocationRequest {
                    id: Some(id.clone()),
                    owner: format!("o{}", self.next % 3),
                    resources: ResourceAsk {
                        gpus: if share.is_some() { 1 } else { gpus },
                        gpu_memory_bytes: share.map(|t| GPU_MEM / 10 * t),
                        cores: cores.max(1),
                        memory_bytes: 1 << 30,
                        min,
                    },
                    priority: Some(Priority::Value(prio)),
                    qos,
                    duration_s: dur.map(|d| (d * STEP_MS / 1000) as u64),
                    constraints: Default::default(),
                    reservation: resv.and_then(|k| self.resv_ids.get(k).cloned()),
                    preemption: PreemptionPolicy { mode, grace_s: if grace { 20 } else { 0 } },
                    queue: true,
                    workload: None,
                };
                if req.validate("r").is_empty() && self.s.allocate(req, now).is_ok() {
                    self.alloc_ids.push(id);
                }
            }
            Op::Reserve { node, gpus, cores, start, len, overlap, ignore_running } => {
                self.next += 1;
                let id = format!("r{}", self.next);
                let req = ReservationRequest {
                    id: Some(id.clone()),
                    name: None,
                    owner: "o".into(),
                    node: format!("n{node}"),
                    gpus: gpus.iter().map(|g| NodeResources::gpu_id(&format!("n{node}"), *g)).collect(),
                    cores,
                    memory_bytes: 0,
                    start_time: format_rfc3339(now + start * STEP_MS),
                    end_time: format_rfc3339(now + (start + len) * STEP_MS),
                    flags: ReservationFlags { overlap, ignore_running },
                    recurrence: None,
                };
                let w = req.validate("r").expect("valid");
                if self.s.reserve(&req, w, now).is_ok() {
                    self.resv_ids.push(id);
                }
            }
            Op::Move { k, start, gpu } => {
                if let Some(id) = self.resv_ids.get(k).cloned() {
                    let Some(r) = self.s.reservation(&id).cloned() else { return };
                    let len = r.end_time - r.start_time;
                    let change = ReservationChange {
                        start_time: Some(format_rfc3339(now + start * STEP_MS)),
                        end_time: Some(format_rfc3339(now + start * STEP_MS + len)),
                        node: None,
                        gpus: Some(vec![NodeResources::gpu_id(&r.node, gpu)]),
                        ..Default::default()
                    };
                    let _ = self.s.update_reservation(&id, &change, now);
                }
            }
            Op::Delete { k } => {
                if let Some(id) = self.resv_ids.get(k).cloned() {
                    let _ = self.s.delete_reservation(&id, now);
                }
            }
            Op::Cancel { k } => {
                if let Some(id) = self.alloc_ids.get(k).cloned() {
                    self.s.cancel(&id, now);
                }
            }
            Op::Advance { steps } => {
                self.now += steps * STEP_MS;
                self.s.tick(self.now);
            }
            Op::Health { node, state } => {
                let name = format!("n{node}");
                let prev = self.unavailable.get(&name).cloned();
                let was_removed = prev.as_ref().is_some_and(|u| u.removed);
                if state == 4 {
                    self.s.remove_node(&name, now);
                } else {
                    if was_removed {
                        // Only a node that joins again (its resources known) comes back.
                        self.s.put_node(nodes().remove(node as usize), now);
                    }
                    self.s.set_node_state(&name, health(state), now);
                }
                if state == 0 {
                    self.unavailable.remove(&name);
                    return;
                }
                let running_now = self
                    .s
                    .allocations()
                    .iter()
                    .filter(|a| a.state == AllocState::Running && a.node.as_deref() == Some(name.as_str()))
                    .map(|a| a.id.clone())
                    .collect();
                let u = match prev.filter(|p| !p.removed) {
                    // Still unavailable: what may run there does not grow, and a node still down
                    // keeps its deadline.
                    Some(p) => Unavailable {
                        removed: state == 4,
                        down_since: if state == 3 && p.state == 3 { p.down_since } else { (state == 3).then_some(now) },
                        running: p.running,
                        state,
                    },
                    None => Unavailable {
                        removed: state == 4,
                        down_since: (state == 3).then_some(now),
                        running: running_now,
                        state,
                    },
                };
                self.unavailable.insert(name, u);
            }
        }
    }
}

fn health(state: u8) -> steward_core::cluster::NodeHealth {
    use steward_core::cluster::NodeHealth;
    [NodeHealth::Up, NodeHealth::Suspect, NodeHealth::Draining, NodeHealth::Down][state as usize]
}

fn check(w: &mut World) -> Result<(), TestCaseError> {
    let events = w.s.take_changes().events;
    w.given_up +=
        events.iter().filter(|e| (e.kind == "requeued" || e.kind == "lost") && e.details.contains_key("node")).count()
            as u64;
    // 5. A node that is not up starts nothing; a removed one, or one down past the grace, runs
    //    nothing.
    let grace = SchedulerConfig::default().node_down_grace_ms;
    for (name, u) in &w.unavailable {
        for a in
            w.s.allocations()
                .iter()
                .filter(|a| a.state == AllocState::Running && a.node.as_deref() == Some(name.as_str()))
        {
            prop_assert!(u.running.contains(&a.id), "{} started on {name}, which is not up ({u:?})", a.id);
            prop_assert!(!u.removed, "{} still runs on removed node {name}", a.id);
            prop_assert!(
                u.down_since.is_none_or(|t| w.now < t + grace),
                "{} still runs on {name}, down since {:?}",
                a.id,
                u.down_since
            );
        }
    }
    let s = &w.s;
    let now = w.now;
    let node_list = nodes();
    let running: Vec<&Allocation> = s.allocations().iter().filter(|a| a.state == AllocState::Running).collect();
    // 1. Nothing over-committed.
    for n in &node_list {
        let here: Vec<&&Allocation> = running.iter().filter(|a| a.node.as_deref() == Some(n.node.as_str())).collect();
        prop_assert!(here.iter().map(|a| a.cores).sum::<u32>() <= n.cores, "cores over-committed on {}", n.node);
        prop_assert!(here.iter().map(|a| a.memory_bytes).sum::<u64>() <= n.memory_bytes);
        // Per GPU: (holders, memory held); a whole-GPU holder holds all of it, alone.
        let mut per_gpu: HashMap<&str, (u32, u64, bool)> = HashMap::new();
        for a in &here {
            for g in &a.gpus {
                let e = per_gpu.entry(g.as_str()).or_default();
                *e = (e.0 + 1, e.1 + a.gpu_memory_bytes.unwrap_or(GPU_MEM), e.2 || a.gpu_memory_bytes.is_none());
            }
        }
        prop_assert!(
            per_gpu.values().all(|&(c, mem, whole)| mem <= GPU_MEM && (!whole || c == 1)),
            "a GPU is over-committed on {}: {per_gpu:?}",
            n.node
        );
    }
    // 2. Nothing runs inside a reservation it does not name; what names one runs inside it.
    let active: Vec<Reservation> = s.reservations_between(now, now + 1);
    for a in &running {
        let own = a.reservation.as_deref().and_then(|rid| active.iter().find(|o| o.id == rid));
        for r in &active {
            if a.node.as_deref() == Some(r.node.as_str()) && a.reservation.as_deref() != Some(r.id.as_str()) {
                // Reservations flagged `overlap` share what they both cover (Slurm's OVERLAP): work
                // of one may run there, but only on resources its own reservation holds.
                let shared =
                    |g: &String| own.is_some_and(|o| (o.flags.overlap || r.flags.overlap) && o.gpus.contains(g));
                prop_assert!(
                    !a.gpus.iter().any(|g| r.gpus.contains(g) && !shared(g)),
                    "{} runs inside reservation {} it does not name",
                    a.id,
                    r.id
                );
            }
        }
        if let Some(rid) = &a.reservation {
            let r = active.iter().find(|r| &r.id == rid);
            prop_assert!(
                r.is_some_and(|r| a.gpus.iter().all(|g| r.gpus.contains(g))),
                "{} runs outside its reservation {rid}",
                a.id
            );
        }
    }
    // 1b. Reservations (not flagged overlap) never reserve more cores than a node has at once.
    let horizon = s.reservations_between(now - 1_000 * STEP_MS, now + 1_000 * STEP_MS);
    for r in horizon.iter().filter(|r| !r.flags.overlap) {
        let open: u32 = horizon
            .iter()
            .filter(|o| {
                !o.flags.overlap && o.node == r.node && o.start_time <= r.start_time && r.start_time < o.end_time
            })
            .map(|o| o.cores)
            .sum();
        prop_assert!(open <= CORES, "{open} cores reserved at once on {} at {}", r.node, format_rfc3339(r.start_time));
    }
    // 3. Guaranteed QoS is never preempted.
    for e in events.iter().filter(|e| e.kind == "preemption") {
        if s.allocation(&e.details["preemptor"]).is_some_and(|p| p.gpu_memory_bytes.is_some()) {
            w.share_preemptions += 1;
        } else if s.allocation(&e.subject).is_some_and(|v| v.gpu_memory_bytes.is_some())
            && s.allocation(&e.details["preemptor"]).is_some_and(|p| p.gpus.contains(&e.details["gpus"]))
        {
            w.sharers_preempted += 1;
        }
        prop_assert_ne!(e.details.get("victim_qos").map(String::as_str), Some("guaranteed"));
        let (vp, pp): (i32, i32) =
            (e.details["victim_priority"].parse().unwrap(), e.details["preemptor_priority"].parse().unwrap());
        prop_assert!(vp < pp, "preempted a victim of priority {vp} for {pp}");
    }
    // 4. No queued request waits while strictly lower, non-guaranteed work it could displace
    //    holds what it needs (outside the backfill promise to the head of the queue).
    let shadow = s.shadow();
    let index: HashMap<&str, usize> = s.allocations().iter().enumerate().map(|(i, a)| (a.id.as_str(), i)).collect();
    let awaited: Vec<&str> = running.iter().filter_map(|a| a.preemption.as_ref().map(|p| p.by.as_str())).collect();
    for p in s
        .allocations()
        .iter()
        .filter(|a| a.state.is_queued() && a.reservation.is_none() && !awaited.contains(&a.id.as_str()))
    {
        let end = p.request.duration_s.map(|d| now + d as i64 * 1000);
        let windows = s.reservations_between(now, end.unwrap_or(i64::MAX / 4));
        for (ni, n) in node_list.iter().enumerate() {
            if w.unavailable.contains_key(&n.node) {
                continue;
            }
            if shadow.is_some_and(|sh| {
                sh.node == ni as u32 && index[p.id.as_str()] as u32 != sh.alloc && end.is_none_or(|e| e > sh.at)
            }) {
                continue;
            }
            let reserved = |g: &String| windows.iter().any(|r| r.node == n.node && r.gpus.contains(g));
            let here: Vec<&&Allocation> =
                running.iter().filter(|a| a.node.as_deref() == Some(n.node.as_str())).collect();
            let held: Vec<&String> = here.iter().flat_map(|a| a.gpus.iter()).collect();
            let displaceable = |a: &Allocation| {
                a.priority < p.priority && a.qos != Qos::Guaranteed && a.preemption.is_none() && a.reservation.is_none()
            };
            // Whole GPUs: idle ones, those displaceable whole-GPU holders give back, and those
            // held only by shares that are all displaceable.
            let mut gpus = n.gpus.iter().filter(|g| !reserved(&g.id) && !held.contains(&&g.id)).count() as u32;
            for a in here.iter().filter(|a| displaceable(a) && a.gpu_memory_bytes.is_none()) {
                gpus += a.gpus.iter().filter(|g| !reserved(g)).count() as u32;
            }
            gpus += n
                .gpus
                .iter()
                .filter(|g| !reserved(&g.id))
                .filter(|g| {
                    let on: Vec<&&&Allocation> = here.iter().filter(|a| a.gpus.contains(&g.id)).collect();
                    !on.is_empty() && on.iter().all(|a| a.gpu_memory_bytes.is_some() && displaceable(a))
                })
                .count() as u32;
            // A share: one unreserved GPU whose free memory plus what displaceable holders use
            // there covers it.
            let share_fits = p.gpu_memory_bytes.is_some_and(|share| {
                n.gpus.iter().filter(|g| !reserved(&g.id)).any(|g| {
                    let on: Vec<&Allocation> = here.iter().map(|a| **a).filter(|a| a.gpus.contains(&g.id)).collect();
                    let used: u64 = on.iter().map(|a| a.gpu_memory_bytes.unwrap_or(GPU_MEM)).sum();
                    let freeable: u64 =
                        on.iter().filter(|a| displaceable(a)).map(|a| a.gpu_memory_bytes.unwrap_or(GPU_MEM)).sum();
                    GPU_MEM - used + freeable >= share
                })
            });
            let gpus_fit = match p.gpu_memory_bytes {
                Some(_) => share_fits,
                None => gpus >= p.request.resources.gpus,
            };
            // Cores once every displaceable allocation is gone: the node less what stays
            // outside reservation pools, less what reservations open during the request's run
            // hold. Clamped only after the victims are taken out: where reservations overdraw
            // the shared pool, freed cores first cover that and are not all the request's.
            let kept: Vec<&&&Allocation> = here.iter().filter(|a| !displaceable(a)).collect();
            let pooled =
                |a: &Allocation| a.reservation.as_ref().and_then(|r| s.reservation(r)).is_some_and(|r| r.cores > 0);
            let outside: i64 = kept.iter().filter(|a| !pooled(a)).map(|a| a.cores as i64).sum();
            let reserved_cores: i64 = windows.iter().filter(|r| r.node == n.node).map(|r| r.cores as i64).sum();
            let cores = (n.cores as i64 - outside - reserved_cores)
                .clamp(0, (n.cores - kept.iter().map(|a| a.cores).sum::<u32>()) as i64) as u32;
            prop_assert!(
                !(gpus_fit && cores >= p.cores),
                "{} (priority {}, share {:?}) waits ({:?}) although {} could give it {gpus} GPUs and {cores} cores",
                p.id,
                p.priority,
                p.gpu_memory_bytes,
                p.pending_reason,
                n.node
            );
        }
    }
    Ok(())
}

#[test]
fn random_sequences_keep_every_invariant() {
    let mut runner = TestRunner::new(Config { cases: 96, source_file: Some(file!()), ..Config::default() });
    let totals = std::cell::RefCell::new(Stats::default());
    let share_preemptions = std::cell::Cell::new(0u64);
    let given_up = std::cell::Cell::new(0u64);
    let sharers_preempted = std::cell::Cell::new(0u64);
    runner
        .run(&prop::collection::vec(op(), 1..80), |ops| {
            let mut w = World {
                s: Scheduler::new(SchedulerConfig::default(), nodes()),
                now: 1_750_000_000_000,
                next: 0,
                resv_ids: vec![],
                alloc_ids: vec![],
                share_preemptions: 0,
                unavailable: HashMap::new(),
                given_up: 0,
                sharers_preempted: 0,
            };
            for op in &ops {
                w.apply(op);
                check(&mut w)?;
            }
            share_preemptions.set(share_preemptions.get() + w.share_preemptions);
            given_up.set(given_up.get() + w.given_up);
            sharers_preempted.set(sharers_preempted.get() + w.sharers_preempted);
            let mut t = totals.borrow_mut();
            let st = w.s.stats;
            t.preemptions += st.preemptions;
            t.refused_overlaps += st.refused_overlaps;
            t.backfilled += st.backfilled;
            t.shrinks += st.shrinks;
            t.evictions += st.evictions;
            t.refused_busy += st.refused_busy;
            Ok(())
        })
        .unwrap();
    let t = totals.into_inner();
    eprintln!(
        "cases covered: {t:?}, preemptions by shares: {}, given up by nodes: {}, sharers preempted by whole-GPU requests: {}",
        share_preemptions.get(),
        given_up.get(),
        sharers_preempted.get()
    );
    assert!(share_preemptions.get() > 0, "no share of a GPU preempted anyone: {t:?}");
    assert!(sharers_preempted.get() > 0, "no whole-GPU request preempted the sharers of a GPU");
    assert!(given_up.get() > 0, "no node that went down or was removed gave up an allocation");
    assert!(t.preemptions > 0, "no preemption happened: {t:?}");
    assert!(t.refused_overlaps > 0, "no overlapping reservation was refused: {t:?}");
    assert!(t.backfilled > 0, "no backfill happened: {t:?}");
    assert!(t.shrinks > 0 && t.evictions > 0 && t.refused_busy > 0, "{t:?}");
}

/// A repeating reservation starting any day in the next five years, in zones with DST shifts of
/// an hour (both hemispheres) and of half an hour (Lord Howe), is accepted on a free node; its
/// occurrences keep their local wall-clock times across every shift, and a request for it waits
/// for its first occurrence.
#[test]
fn recurring_series_are_accepted_at_any_future_start_and_keep_local_time_across_dst() {
    let zones = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe"];
    let now = jiff::Timestamp::from_millisecond(1_796_637_600_000).unwrap(); // 2026-12-07T10:00:00Z
    let crossed = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(Config { cases: 160, source_file: Some(file!()), ..Config::default() });
    let case = (
        prop::sample::select(zones.to_vec()),
        0..1826i64,
        4..=19i8,
        prop::sample::select(vec![0i8, 15, 30, 45]),
        15..=180i64,
        any::<bool>(),
        1..=60i64,
    );
    runner
        .run(&case, |(zone_name, days_ahead, hour, minute, len_min, weekly, count)| {
            let tz = recurrence::zone(zone_name).unwrap();
            let day = now.to_zoned(tz.clone()).date().checked_add(jiff::Span::new().days(days_ahead + 1)).unwrap();
            let (freq, period) = if weekly { (Frequency::Weekly, 7) } else { (Frequency::Daily, 1) };
            let local_start = day.at(hour, minute, 0, 0);
            let at = |local: jiff::civil::DateTime| local.to_zoned(tz.clone()).unwrap().timestamp().as_millisecond();
            let local_end = local_start.checked_add(jiff::Span::new().minutes(len_min)).unwrap();
            let last = local_start.checked_add(jiff::Span::new().days((count - 1) * period)).unwrap();
            let mut s = Scheduler::new(SchedulerConfig::default(), nodes());
            let req = ReservationRequest {
                id: Some("series".into()),
                name: None,
                owner: "ann".into(),
                node: "n0".into(),
                gpus: vec![NodeResources::gpu_id("n0", 0)],
                cores: 0,
                memory_bytes: 0,
                start_time: format_rfc3339(at(local_start)),
                end_time: format_rfc3339(at(local_end)),
                flags: Default::default(),
                recurrence: Some(Recurrence { freq, until: Some(format_rfc3339(at(last))), tz: zone_name.into() }),
            };
            let window = req.validate("r").map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let now_ms = now.as_millisecond();
            let made = s.reserve(&req, window, now_ms);
            prop_assert!(made.is_ok(), "refused: {:?}", made.err().map(|r| r.error));
            let occ = s.reservations_between(at(local_start) - 86_400_000, at(last) + 8 * 86_400_000);
            prop_assert_eq!(occ.len() as i64, count);
            let mut offsets = std::collections::BTreeSet::new();
            for (k, o) in occ.iter().enumerate() {
                let start = jiff::Timestamp::from_millisecond(o.start_time).unwrap().to_zoned(tz.clone());
                let end = jiff::Timestamp::from_millisecond(o.end_time).unwrap().to_zoned(tz.clone());
                let want = local_start.checked_add(jiff::Span::new().days(k as i64 * period)).unwrap();
                prop_assert_eq!(start.datetime(), want, "occurrence {} of {}", k, zone_name);
                prop_assert_eq!(end.datetime(), want.checked_add(jiff::Span::new().minutes(len_min)).unwrap());
                offsets.insert(start.offset().seconds());
            }
            if offsets.len() > 1 {
                crossed.set(crossed.get() + 1);
            }
            let user = AllocationRequest {
                id: Some("inside".into()),
                owner: "ann".into(),
                resources: ResourceAsk { gpus: 1, ..Default::default() },
                priority: None,
                qos: Qos::Burstable,
                duration_s: None,
                constraints: Default::default(),
                reservation: Some("series".into()),
                preemption: Default::default(),
                queue: true,
                workload: None,
            };
            let waiting = s.allocate(user, now_ms).map_err(|r| TestCaseError::fail(r.error))?;
            let reason = waiting.pending_reason.unwrap_or_default();
            prop_assert!(reason.contains(&format_rfc3339(at(local_start))), "{}", reason);
            Ok(())
        })
        .unwrap();
    assert!(crossed.get() > 10, "too few series crossed a DST change: {}", crossed.get());
}
