//! The issue's story, step by step, against the pure engine.

use steward_core::alloc::time::parse_rfc3339;
use steward_core::alloc::*;

pub fn node(name: &str, gpus: u32) -> NodeResources {
    NodeResources {
        node: name.into(),
        cores: 32,
        memory_bytes: 256 << 30,
        labels: Default::default(),
        gpus: (0..gpus)
            .map(|i| GpuResource {
                id: NodeResources::gpu_id(name, i),
                index: i,
                name: "NVIDIA H100".into(),
                memory_bytes: 80 << 30,
                mig: vec![],
            })
            .collect(),
        accelerators: vec![],
    }
}

fn ask(id: &str, gpus: u32, priority: i32, qos: Qos) -> AllocationRequest {
    AllocationRequest {
        id: Some(id.into()),
        owner: "ann".into(),
        resources: ResourceAsk { gpus, cores: 2, memory_bytes: 1 << 30, ..Default::default() },
        priority: Some(Priority::Value(priority)),
        qos,
        duration_s: None,
        constraints: Default::default(),
        reservation: None,
        preemption: Default::default(),
        queue: true,
        workload: None,
    }
}

fn reserve(id: &str, gpus: &[&str], start: &str, end: &str) -> ReservationRequest {
    ReservationRequest {
        id: Some(id.into()),
        name: Some(id.into()),
        owner: "ann".into(),
        node: "vm".into(),
        gpus: gpus.iter().map(ToString::to_string).collect(),
        cores: 0,
        memory_bytes: 0,
        start_time: start.into(),
        end_time: end.into(),
        flags: Default::default(),
        recurrence: None,
    }
}

fn t(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

#[test]
fn reserve_tomorrow_refuse_overlap_and_move() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 4)]);
    let now = t("2025-06-01T12:00:00Z");
    let r = reserve("train", &["vm/gpu0", "vm/gpu1"], "2025-06-02T09:00:00Z", "2025-06-02T12:00:00Z");
    let w = r.validate("r").unwrap();
    s.reserve(&r, w, now).unwrap();
    let clash = reserve("other", &["vm/gpu1"], "2025-06-02T11:00:00Z", "2025-06-02T13:00:00Z");
    let err = s.reserve(&clash, clash.validate("r").unwrap(), now).unwrap_err();
    assert!(err.error.contains("overlaps reservation 'train' on vm/gpu1"), "{}", err.error);
    // Moving to other GPUs is fine; moving onto a reserved one is refused with the reason.
    let ok = reserve("other", &["vm/gpu2"], "2025-06-02T11:00:00Z", "2025-06-02T13:00:00Z");
    s.reserve(&ok, ok.validate("r").unwrap(), now).unwrap();
    let change = ReservationChange { gpus: Some(vec!["vm/gpu0".into()]), ..Default::default() };
    match s.update_reservation("other", &change, now) {
        Err(ReservationError::Conflict(why)) => assert!(why.contains("'train'"), "{why}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let change = ReservationChange { gpus: Some(vec!["vm/gpu3".into()]), ..Default::default() };
    assert_eq!(s.update_reservation("other", &change, now).unwrap().gpus, ["vm/gpu3"]);
    assert_eq!(s.stats.refused_overlaps, 2);
    let listed = s.reservations_between(t("2025-06-02T00:00:00Z"), t("2025-06-03T00:00:00Z"));
    assert_eq!(listed.len(), 2);
}

#[test]
fn open_ended_work_cannot_take_reserved_gpus_and_reservation_users_run_inside() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 2)]);
    let now = t("2025-06-01T12:00:00Z");
    let r = reserve("train", &["vm/gpu0"], "2025-06-02T09:00:00Z", "2025-06-02T12:00:00Z");
    s.reserve(&r, r.validate("r").unwrap(), now).unwrap();
    let a = s.allocate(ask("a", 1, 500, Qos::Burstable), now).unwrap();
    assert_eq!(a.gpus, ["vm/gpu1"]);
    let b = s.allocate(ask("b", 1, 500, Qos::Burstable), now).unwrap();
    assert_eq!(b.state, AllocState::Pending, "gpu0 is reserved tomorrow and b has no end");
    let mut inside = ask("c", 1, 500, Qos::Burstable);
    inside.reservation = Some("train".into());
    let c = s.allocate(inside, now).unwrap();
    assert!(c.pending_reason.unwrap().contains("waiting for reservation"));
    s.tick(t("2025-06-02T09:00:00Z"));
    let c = s.allocation("c").unwrap();
    assert_eq!((c.state, c.gpus.clone()), (AllocState::Running, vec!["vm/gpu0".to_string()]));
    assert_eq!(c.end_time, Some(t("2025-06-02T12:00:00Z")));
    s.tick(t("2025-06-02T12:00:00Z"));
    let c = s.allocation("c").unwrap();
    assert_ne!(c.state, AllocState::Running, "what runs inside ends at the reservation's end");
}

#[test]
fn busy_gpus_are_refused_unless_ignore_running_which_ends_them_at_the_start() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 1)]);
    let now = t("2025-06-01T12:00:00Z");
    s.allocate(ask("a", 1, 500, Qos::Burstable), now).unwrap();
    let mut r = reserve("train", &["vm/gpu0"], "2025-06-02T09:00:00Z", "2025-06-02T12:00:00Z");
    let err = s.reserve(&r, r.validate("r").unwrap(), now).unwrap_err();
    assert!(err.error.contains("busy at the start"), "{}", err.error);
    r.flags.ignore_running = true;
    s.reserve(&r, r.validate("r").unwrap(), now).unwrap();
    assert_eq!(s.allocation("a").unwrap().state, AllocState::Running);
    s.tick(t("2025-06-02T09:00:00Z"));
    assert_eq!(s.allocation("a").unwrap().state, AllocState::Pending);
    assert_eq!(s.stats.evictions, 1);
}

#[test]
fn high_priority_preempts_best_effort_and_never_guaranteed() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 2)]);
    let now = 1_000_000;
    s.allocate(ask("g", 1, 0, Qos::Guaranteed), now).unwrap();
    s.allocate(ask("be", 1, 0, Qos::BestEffort), now).unwrap();
    let hi = s.allocate(ask("hi", 1, 750, Qos::Burstable), now + 1000).unwrap();
    assert_eq!(hi.state, AllocState::Running);
    assert_eq!(s.allocation("be").unwrap().state, AllocState::Pending);
    assert_eq!(s.allocation("g").unwrap().state, AllocState::Running);
    let ev = s.take_changes().events;
    assert!(ev.iter().any(|e| e.kind == "preemption" && e.subject == "be" && e.message.contains("preempted by hi")));
    let hi2 = s.allocate(ask("hi2", 1, 750, Qos::Burstable), now + 2000).unwrap();
    assert_eq!(hi2.state, AllocState::Pending, "guaranteed and equal priority are never preempted");
}

#[test]
fn shrinking_comes_before_preemption_and_grace_periods_delay_victims() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 4)]);
    let now = 0;
    let mut wide = ask("wide", 3, 100, Qos::Burstable);
    wide.resources.min = Some(ResourceAmount { gpus: 1, cores: 2, memory_bytes: 1 << 30 });
    s.allocate(wide, now).unwrap();
    let mut slow = ask("slow", 1, 100, Qos::BestEffort);
    slow.preemption = PreemptionPolicy { mode: PreemptionMode::Suspend, grace_s: 30 };
    s.allocate(slow, now).unwrap();
    s.allocate(ask("p1", 2, 500, Qos::Burstable), 10).unwrap();
    assert_eq!(s.allocation("p1").unwrap().state, AllocState::Running);
    assert_eq!(s.allocation("wide").unwrap().gpus.len(), 1, "shrunk toward min");
    assert_eq!(s.stats.preemptions, 0);
    let p2 = s.allocate(ask("p2", 1, 500, Qos::Burstable), 20).unwrap();
    assert_eq!(p2.state, AllocState::Pending);
    assert!(s.allocation("slow").unwrap().preemption.is_some(), "victim runs out its grace");
    s.tick(30_019);
    assert_eq!(s.allocation("p2").unwrap().state, AllocState::Pending);
    s.tick(30_020);
    assert_eq!(s.allocation("slow").unwrap().state, AllocState::Suspended);
    assert_eq!(s.allocation("p2").unwrap().state, AllocState::Running, "{:?}", s.allocation("p2"));
}

#[test]
fn backfill_runs_short_work_without_delaying_the_head() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a", 2)]);
    let mut long = ask("long", 1, 500, Qos::Guaranteed);
    long.duration_s = Some(100);
    s.allocate(long, 0).unwrap();
    let head = s.allocate(ask("head", 2, 500, Qos::Burstable), 1).unwrap();
    assert_eq!(head.state, AllocState::Pending);
    let mut short = ask("short", 1, 100, Qos::Burstable);
    short.duration_s = Some(50);
    assert_eq!(s.allocate(short, 2).unwrap().state, AllocState::Running, "ends before the head's start");
    let open = s.allocate(ask("open", 1, 100, Qos::Burstable), 3).unwrap();
    assert_eq!(open.state, AllocState::Pending, "would delay the head");
    assert!(s.stats.backfilled >= 1);
    s.tick(100_000);
    assert_eq!(s.allocation("head").unwrap().state, AllocState::Running);
}

#[test]
fn quotas_and_equal_priority_order_by_age_then_fair_share() {
    let mut cfg = SchedulerConfig::default();
    cfg.quotas.insert("ann".into(), ResourceAmount { gpus: 1, cores: 64, memory_bytes: u64::MAX });
    let mut s = Scheduler::new(cfg, vec![node("a", 4)]);
    s.allocate(ask("a1", 1, 500, Qos::Burstable), 0).unwrap();
    let a2 = s.allocate(ask("a2", 1, 500, Qos::Burstable), 1).unwrap();
    assert_eq!(a2.pending_reason.as_deref(), Some("waiting for the quota of ann: 1 GPUs (1 held); asked 1 GPUs"));
    let too_big = s.allocate(ask("a3", 2, 500, Qos::Burstable), 1);
    assert!(too_big.is_err());
}

#[test]
fn daily_reservation_clash_is_found_on_a_later_day() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 1)]);
    let now = t("2025-03-27T00:00:00Z");
    let mut daily = reserve("standup", &["vm/gpu0"], "2025-03-28T09:00:00+01:00", "2025-03-28T10:00:00+01:00");
    daily.recurrence = Some(Recurrence { freq: Frequency::Daily, until: None, tz: "Europe/Berlin".into() });
    s.reserve(&daily, daily.validate("r").unwrap(), now).unwrap();
    // Monday after the DST change, 09:30 Berlin = 07:30 UTC.
    let later = reserve("x", &["vm/gpu0"], "2025-03-31T07:30:00Z", "2025-03-31T08:30:00Z");
    let err = s.reserve(&later, later.validate("r").unwrap(), now).unwrap_err();
    assert!(err.error.contains("2025-03-31T07:00:00Z"), "{}", err.error);
    let ics = ics::to_ics(&s.reservations().cloned().collect::<Vec<_>>(), now);
    assert!(ics.contains("DTSTART;TZID=Europe/Berlin:20250328T090000"), "{ics}");
}

#[test]
fn victims_are_chosen_across_every_node_in_the_issues_order() {
    // 80 nodes of 4 GPUs, all busy at priority 0. On the first 79 four one-GPU jobs each; on
    // the last one four-GPU job. A 4-GPU request needs 4 victims anywhere but there: 1.
    let nodes: Vec<_> = (0..80).map(|i| node(&format!("n{i:02}"), 4)).collect();
    let mut s = Scheduler::new(SchedulerConfig::default(), nodes);
    for i in 0..79 {
        for g in 0..4 {
            let mut a = ask(&format!("small{i}-{g}"), 1, 0, Qos::BestEffort);
            a.constraints.node = Some(format!("n{i:02}"));
            s.allocate(a, 0).unwrap();
        }
    }
    let mut big = ask("big", 4, 0, Qos::BestEffort);
    big.constraints.node = Some("n79".into());
    s.allocate(big, 0).unwrap();
    let hi = s.allocate(ask("hi", 4, 1000, Qos::Burstable), 1_000).unwrap();
    assert_eq!(hi.node.as_deref(), Some("n79"));
    assert_eq!(s.stats.preemptions, 1);
    assert_eq!(s.allocation("big").unwrap().state, AllocState::Pending);
}

#[test]
fn the_highest_victim_priority_comes_before_the_number_of_victims() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a", 2), node("b", 2)]);
    let mut on = |id: &str, n: &str, gpus, prio| {
        let mut a = ask(id, gpus, prio, Qos::BestEffort);
        a.constraints.node = Some(n.into());
        s.allocate(a, 0).unwrap();
    };
    on("a-one", "a", 2, 10);
    on("b-first", "b", 1, 5);
    on("b-second", "b", 1, 5);
    let hi = s.allocate(ask("hi", 2, 1000, Qos::Burstable), 1_000).unwrap();
    assert_eq!(hi.node.as_deref(), Some("b"), "two victims at priority 5 beat one at 10");
    assert_eq!(s.stats.preemptions, 2);
}

#[test]
fn a_request_starts_at_the_largest_size_that_fits_when_only_its_min_does() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a", 4), node("b", 4)]);
    s.allocate(ask("g-a", 2, 900, Qos::Guaranteed), 0).unwrap();
    s.allocate(ask("g-b", 3, 900, Qos::Guaranteed), 0).unwrap();
    let mut wide = ask("wide", 4, 500, Qos::Burstable);
    wide.resources.cores = 8;
    wide.resources.min = Some(ResourceAmount { gpus: 1, cores: 2, memory_bytes: 1 << 30 });
    let w = s.allocate(wide, 10).unwrap();
    assert_eq!(w.state, AllocState::Running);
    assert_eq!(
        (w.node.as_deref(), w.gpus.len(), w.cores),
        (Some("a"), 2, 8),
        "largest size that fits, on the roomiest node"
    );
    // Where not even its min fits, it waits.
    s.cancel("g-a", 20);
    s.cancel("g-b", 20);
    let mut too_big = ask("needs3", 3, 500, Qos::Burstable);
    too_big.resources.min = Some(ResourceAmount { gpus: 3, cores: 2, memory_bytes: 1 << 30 });
    s.allocate(ask("g-c", 2, 900, Qos::Guaranteed), 30).unwrap();
    s.allocate(ask("g-d", 2, 900, Qos::Guaranteed), 30).unwrap();
    let n = s.allocate(too_big, 40).unwrap();
    assert_eq!(n.state, AllocState::Pending, "below min it waits: {n:?}");
}

/// Reduced from an `alloc_props` failure. Two reservations that do not overlap each other but
/// both fall inside an open-ended request's run reserve 30 of the node's 32 cores: the shared
/// pool such a request sees is overdrawn (32 − 4 running − 30 = −2). Preempting the 4-core job
/// leaves it 2 cores, not 4: the request must wait and nobody may be preempted for it.
#[test]
fn victims_first_fill_what_reservations_overdraw_from_the_shared_pool() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 2)]);
    let now = t("2025-06-01T12:00:00Z");
    for (id, gpu, cores, start, end) in [
        ("a", "vm/gpu0", 16, "2025-06-01T13:00:00Z", "2025-06-01T14:00:00Z"),
        ("b", "vm/gpu1", 14, "2025-06-01T15:00:00Z", "2025-06-01T16:00:00Z"),
    ] {
        let mut r = reserve(id, &[gpu], start, end);
        r.cores = cores;
        s.reserve(&r, r.validate("r").unwrap(), now).unwrap();
    }
    let mut low = ask("low", 0, 0, Qos::BestEffort);
    low.resources.cores = 4;
    low.duration_s = Some(1800);
    assert_eq!(s.allocate(low, now).unwrap().state, AllocState::Running, "ends before either reservation");
    let mut high = ask("high", 0, 750, Qos::Burstable);
    high.resources.cores = 4;
    assert_eq!(s.allocate(high, now + 1000).unwrap().state, AllocState::Pending);
    assert_eq!(s.stats.preemptions, 0, "preempting low would not make room");
    assert_eq!(s.allocation("low").unwrap().state, AllocState::Running);
    // The wait is right: with low gone, high still does not fit.
    s.cancel("low", now + 2000);
    assert_eq!(s.allocation("high").unwrap().state, AllocState::Pending);
    // Once the first reservation is out of the way, 32 − 14 = 18 cores: high runs.
    s.delete_reservation("a", now + 3000).unwrap();
    s.tick(now + 3000);
    assert_eq!(s.allocation("high").unwrap().state, AllocState::Running);
}

#[test]
fn a_run_ended_by_its_reservation_keeps_where_and_when_it_ran() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 2)]);
    let now = t("2025-06-01T12:00:00Z");
    let r = reserve("train", &["vm/gpu0"], "2025-06-02T09:00:00Z", "2025-06-02T12:00:00Z");
    s.reserve(&r, r.validate("r").unwrap(), now).unwrap();
    let mut inside = ask("inside", 1, 500, Qos::Burstable);
    inside.reservation = Some("train".into());
    s.allocate(inside, now).unwrap();
    s.tick(t("2025-06-02T09:00:00Z"));
    s.tick(t("2025-06-02T12:00:00Z"));
    let a = s.allocation("inside").unwrap();
    assert_eq!(a.state, AllocState::Finished, "{a:?}");
    assert_eq!(
        (a.node.as_deref(), a.gpus.clone(), a.start_time, a.end_time),
        (Some("vm"), vec!["vm/gpu0".to_string()], Some(t("2025-06-02T09:00:00Z")), Some(t("2025-06-02T12:00:00Z")))
    );
    let reason = a.pending_reason.clone().unwrap_or_default();
    assert!(reason.contains("reservation train ended"), "{reason}");
}

#[test]
fn a_queue_false_refusal_is_an_answer_not_a_record() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 1)]);
    s.allocate(ask("holder", 1, 900, Qos::Guaranteed), 0).unwrap();
    s.take_changes();
    let mut now_only = ask("now-only", 1, 100, Qos::Burstable);
    now_only.queue = false;
    let err = s.allocate(now_only.clone(), 1).unwrap_err();
    assert!(err.error.starts_with("cannot start now"), "{}", err.error);
    assert!(s.allocation("now-only").is_none(), "a refusal leaves no allocation behind");
    let changes = s.take_changes();
    assert!(changes.allocations.is_empty() && changes.events.is_empty(), "{changes:?}");
    // Once it can run, the same request is granted.
    s.cancel("holder", 2);
    let a = s.allocate(now_only, 3).unwrap();
    assert_eq!(a.state, AllocState::Running);
}

fn reason(s: &Scheduler, id: &str) -> String {
    s.allocation(id).and_then(|a| a.pending_reason.clone()).unwrap_or_default()
}

#[test]
fn waiting_for_resources_says_what_it_needs_and_when_it_is_expected() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 1)]);
    s.allocate(ask("holder", 1, 900, Qos::Burstable), 0).unwrap();
    s.allocate(ask("w", 1, 500, Qos::Burstable), 1).unwrap();
    assert_eq!(reason(&s, "w"), "waiting for resources: 1 GPU(s), 2 cores, 1024 MiB on one node");
    let mut t = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 1)]);
    let mut timed = ask("holder", 1, 900, Qos::Burstable);
    timed.duration_s = Some(100);
    t.allocate(timed, 0).unwrap();
    t.allocate(ask("w", 1, 500, Qos::Burstable), 1).unwrap();
    assert_eq!(reason(&t, "w"), "waiting for resources; first in line, expected on vm by 1970-01-01T00:01:40Z");
}

#[test]
fn a_request_held_back_by_backfill_names_the_head_it_would_delay() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a", 2)]);
    let mut long = ask("long", 1, 500, Qos::Guaranteed);
    long.duration_s = Some(100);
    s.allocate(long, 0).unwrap();
    s.allocate(ask("head", 2, 500, Qos::Burstable), 1).unwrap();
    let open = s.allocate(ask("open", 1, 100, Qos::Burstable), 3).unwrap();
    assert_eq!(open.state, AllocState::Pending);
    assert_eq!(
        reason(&s, "open"),
        "waiting behind head, first in line (expected on a by 1970-01-01T00:01:40Z): starting now would delay it"
    );
}

#[test]
fn a_request_blocked_by_guaranteed_holders_names_them() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 2)]);
    s.allocate(ask("g1", 2, 100, Qos::Guaranteed), 0).unwrap();
    s.allocate(ask("urgent", 1, 900, Qos::Burstable), 1).unwrap();
    assert_eq!(reason(&s, "urgent"), "waiting for resources held by guaranteed allocations, never preempted: g1");
}

#[test]
fn guaranteed_holders_are_found_on_any_node_and_forgotten_when_they_end() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a", 2), node("b", 2), node("c", 2)]);
    s.allocate(ask("high", 2, 950, Qos::Burstable), 0).unwrap();
    s.allocate(ask("g1", 2, 100, Qos::Guaranteed), 1).unwrap();
    s.allocate(ask("g2", 2, 100, Qos::Guaranteed), 2).unwrap();
    s.allocate(ask("urgent", 2, 900, Qos::Burstable), 3).unwrap();
    assert_eq!(reason(&s, "urgent"), "waiting for resources held by guaranteed allocations, never preempted: g1");
    s.cancel("g1", 4);
    s.tick(5);
    assert_eq!(s.allocation("urgent").unwrap().state, AllocState::Running);
    s.allocate(ask("later", 2, 900, Qos::Burstable), 6).unwrap();
    assert_eq!(reason(&s, "later"), "waiting for resources held by guaranteed allocations, never preempted: g2");
    s.cancel("g2", 7);
    s.tick(8);
    assert_eq!(s.allocation("later").unwrap().state, AllocState::Running);
}

#[test]
fn quotas_state_the_limit_and_a_min_within_it_starts_at_the_largest_size_it_allows() {
    let mut cfg = SchedulerConfig::default();
    cfg.quotas.insert("ann".into(), ResourceAmount { gpus: 2, cores: 64, memory_bytes: u64::MAX });
    let mut s = Scheduler::new(cfg, vec![node("a", 8)]);
    let err = s.allocate(ask("big", 3, 500, Qos::Burstable), 0).unwrap_err();
    assert_eq!(err.error, "quota of ann: 2 GPUs; asked 3 GPUs");
    let mut flexible = ask("flex", 4, 500, Qos::Burstable);
    flexible.resources.min = Some(ResourceAmount { gpus: 1, cores: 2, memory_bytes: 1 << 30 });
    let f = s.allocate(flexible.clone(), 1).unwrap();
    assert_eq!((f.state, f.gpus.len()), (AllocState::Running, 2), "{f:?}");
    s.allocate(ask("more", 1, 500, Qos::Burstable), 2).unwrap();
    assert_eq!(reason(&s, "more"), "waiting for the quota of ann: 2 GPUs (2 held); asked 1 GPUs");
    // With one GPU of the quota left, the next flexible request takes that one.
    s.cancel("more", 3);
    s.cancel("flex", 3);
    s.allocate(ask("one", 1, 500, Qos::Burstable), 4).unwrap();
    flexible.id = Some("flex2".into());
    let f2 = s.allocate(flexible, 5).unwrap();
    assert_eq!((f2.state, f2.gpus.len()), (AllocState::Running, 1), "{f2:?}");
}

#[test]
fn waiting_for_a_reservation_or_a_down_node_says_so() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 1), node("b", 1)]);
    let now = t("2025-06-01T12:00:00Z");
    let r = reserve("train", &["vm/gpu0"], "2025-06-02T09:00:00Z", "2025-06-02T12:00:00Z");
    s.reserve(&r, r.validate("r").unwrap(), now).unwrap();
    let mut inside = ask("inside", 1, 500, Qos::Burstable);
    inside.reservation = Some("train".into());
    s.allocate(inside, now).unwrap();
    assert_eq!(reason(&s, "inside"), "waiting for reservation \"train\" to start at 2025-06-02T09:00:00Z");
    s.set_node_state("b", steward_core::cluster::NodeHealth::Down, now);
    let mut pinned = ask("pinned", 1, 500, Qos::Burstable);
    pinned.constraints.node = Some("b".into());
    s.allocate(pinned, now + 1).unwrap();
    assert_eq!(reason(&s, "pinned"), "waiting for node b, which is down");
}

#[test]
fn eviction_by_a_reservation_shows_as_the_end_and_the_estimate_counts_reservation_ends() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 1)]);
    let now = t("2025-06-01T12:00:00Z");
    s.allocate(ask("a", 1, 500, Qos::Burstable), now).unwrap();
    let mut r = reserve("train", &["vm/gpu0"], "2025-06-02T09:00:00Z", "2025-06-02T12:00:00Z");
    r.flags.ignore_running = true;
    s.reserve(&r, r.validate("r").unwrap(), now).unwrap();
    let a = s.allocation("a").unwrap();
    assert_eq!(
        (a.state, a.end_time),
        (AllocState::Running, Some(t("2025-06-02T09:00:00Z"))),
        "the eviction is its end"
    );
    s.delete_reservation("train", now + 1).unwrap();
    assert_eq!(s.allocation("a").unwrap().end_time, None, "no reservation, no eviction");
    r.id = Some("train2".into());
    r.name = Some("train2".into());
    s.reserve(&r, r.validate("r").unwrap(), now + 2).unwrap();
    s.tick(t("2025-06-02T09:00:00Z"));
    let a = s.allocation("a").unwrap();
    assert_eq!(a.state, AllocState::Pending, "{a:?}");
    assert_eq!(s.stats.evictions, 1);
    s.tick(t("2025-06-02T09:00:01Z"));
    assert_eq!(
        reason(&s, "a"),
        "waiting for GPUs reserved on vm: 1 idle, 1 of them reserved by \"train2\" until 2025-06-02T12:00:00Z \
         (overlapping a run with no duration); first in line, expected on vm by 2025-06-02T12:00:00Z"
    );
    s.tick(t("2025-06-02T12:00:00Z"));
    assert_eq!(s.allocation("a").unwrap().state, AllocState::Running);
}

#[test]
fn a_constraint_naming_an_unknown_node_says_so() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("local", 1), node("b", 1)]);
    let mut pinned = ask("pinned", 1, 500, Qos::Burstable);
    pinned.constraints.node = Some("vm".into());
    let err = s.allocate(pinned.clone(), 0).unwrap_err();
    assert_eq!(err.error, "no node named \"vm\" (nodes: local, b)");
    pinned.constraints.node = Some("local".into());
    assert_eq!(s.allocate(pinned, 0).unwrap().node.as_deref(), Some("local"));
}

#[test]
fn idle_gpus_held_by_a_future_reservation_name_it_as_the_reason() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 4)]);
    let now = t("2025-06-01T12:00:00Z");
    let r = reserve("train", &["vm/gpu0", "vm/gpu1"], "2025-06-02T09:00:00Z", "2025-06-02T12:00:00Z");
    s.reserve(&r, r.validate("r").unwrap(), now).unwrap();
    // Open-ended: it would overlap tomorrow's reservation, so all four idle GPUs are not enough.
    let open = s.allocate(ask("open", 4, 500, Qos::Burstable), now).unwrap();
    assert_eq!(open.state, AllocState::Pending);
    assert_eq!(
        reason(&s, "open"),
        "waiting for GPUs reserved on vm: 4 idle, 2 of them reserved by \"train\" from 2025-06-02T09:00:00Z \
         (overlapping a run with no duration); first in line, expected on vm by 2025-06-02T12:00:00Z"
    );
    // A run that ends before the reservation starts is not held back by it.
    let mut short = ask("short", 4, 400, Qos::Burstable);
    short.duration_s = Some(3600);
    s.cancel("open", now + 1);
    assert_eq!(s.allocate(short, now + 2).unwrap().state, AllocState::Running);
}

#[test]
fn a_reservation_is_renamed_and_given_to_another_owner_but_names_stay_unique() {
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 4)]);
    let now = t("2025-06-01T12:00:00Z");
    for (id, gpu) in [("train", "vm/gpu0"), ("eval", "vm/gpu1")] {
        let r = reserve(id, &[gpu], "2025-06-02T09:00:00Z", "2025-06-02T12:00:00Z");
        s.reserve(&r, r.validate("r").unwrap(), now).unwrap();
    }
    let rename = ReservationChange { name: Some(" finetune ".into()), owner: Some("bob".into()), ..Default::default() };
    let r = s.update_reservation("train", &rename, now).unwrap();
    assert_eq!((r.name.as_str(), r.owner.as_str()), ("finetune", "bob"));
    let taken = ReservationChange { name: Some("finetune".into()), ..Default::default() };
    match s.update_reservation("eval", &taken, now) {
        Err(ReservationError::Invalid(e)) => {
            assert_eq!(e[0].message, "a reservation named \"finetune\" already exists");
        }
        other => panic!("expected the name refused, got {other:?}"),
    }
    let listed = s.reservations_between(t("2025-06-02T00:00:00Z"), t("2025-06-03T00:00:00Z"));
    let names: Vec<_> = listed.iter().map(|r| r.name.as_str()).collect();
    assert!(names.contains(&"finetune") && names.contains(&"eval"), "{names:?}");
}
