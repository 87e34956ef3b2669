//! One occurrence of a repeating reservation moved, resized or cancelled on its own, against
//! the pure engine: the same rules as a one-off reservation, DST-correct, surviving a restore.

use steward_core::alloc::time::{format_rfc3339, parse_rfc3339};
use steward_core::alloc::*;

fn node(name: &str, gpus: u32) -> NodeResources {
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

fn t(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

fn reserve(
    s: &mut Scheduler,
    id: &str,
    gpu: &str,
    start: &str,
    end: &str,
    daily: bool,
    now: i64,
) -> Result<Reservation, Refusal> {
    let req = ReservationRequest {
        id: Some(id.into()),
        name: Some(id.into()),
        owner: "ann".into(),
        node: "vm".into(),
        gpus: vec![gpu.into()],
        cores: 0,
        memory_bytes: 0,
        start_time: start.into(),
        end_time: end.into(),
        flags: Default::default(),
        recurrence: daily.then(|| Recurrence { freq: Frequency::Daily, until: None, tz: "Europe/Berlin".into() }),
    };
    let w = req.validate("r").unwrap();
    s.reserve(&req, w, now)
}

fn times(start: &str, end: &str) -> ReservationChange {
    ReservationChange { start_time: Some(start.into()), end_time: Some(end.into()), ..Default::default() }
}

/// `(id, start, end)` of every occurrence of the DST week (Fri 28 March – Tue 1 April 2025).
fn week(s: &Scheduler) -> Vec<(String, String, String)> {
    s.reservations_between(t("2025-03-28T00:00:00Z"), t("2025-04-02T00:00:00Z"))
        .into_iter()
        .filter(|r| r.occurrence_of.as_deref() == Some("daily"))
        .map(|r| (r.id, format_rfc3339(r.start_time), format_rfc3339(r.end_time)))
        .collect()
}

fn row(id: &str, start: &str, end: &str) -> (String, String, String) {
    (format!("daily@{id}"), start.into(), end.into())
}

#[test]
fn one_occurrence_moves_across_the_dst_week_and_the_series_and_a_restore_keep_it() {
    let now = t("2025-03-27T12:00:00Z");
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 2)]);
    reserve(&mut s, "daily", "vm/gpu0", "2025-03-28T09:00:00+01:00", "2025-03-28T12:00:00+01:00", true, now).unwrap();
    // Sunday 30 March, the day clocks go forward: 09:00 local is 07:00Z. Move it to 14:00–15:00.
    let sunday = t("2025-03-30T07:00:00Z");
    s.update_occurrence("daily", sunday, &times("2025-03-30T14:00:00+02:00", "2025-03-30T15:00:00+02:00"), now)
        .unwrap();
    // Cancel Monday's.
    s.delete_occurrence("daily", t("2025-03-31T07:00:00Z"), now).unwrap();
    let want = vec![
        row("2025-03-28T08:00:00Z", "2025-03-28T08:00:00Z", "2025-03-28T11:00:00Z"),
        row("2025-03-29T08:00:00Z", "2025-03-29T08:00:00Z", "2025-03-29T11:00:00Z"),
        row("2025-03-30T07:00:00Z", "2025-03-30T12:00:00Z", "2025-03-30T13:00:00Z"),
        row("2025-04-01T07:00:00Z", "2025-04-01T07:00:00Z", "2025-04-01T10:00:00Z"),
    ];
    assert_eq!(week(&s), want);
    // The cancelled one cannot be moved; a start the series never gives is not an occurrence.
    assert!(matches!(
        s.update_occurrence(
            "daily",
            t("2025-03-31T07:00:00Z"),
            &times("2025-03-31T13:00:00Z", "2025-03-31T14:00:00Z"),
            now
        ),
        Err(ReservationError::NotFound(_))
    ));
    assert!(matches!(s.delete_occurrence("daily", t("2025-03-31T08:00:00Z"), now), Err(ReservationError::NotFound(_))));

    // What is persisted (the series' record with its exceptions) restores the same week.
    let records: Vec<Reservation> = s.reservations().cloned().collect();
    let json = serde_json::to_string(&records).unwrap();
    let back: Vec<Reservation> = serde_json::from_str(&json).unwrap();
    let restored = Scheduler::restore(SchedulerConfig::default(), vec![node("vm", 2)], back, vec![], 0);
    assert_eq!(week(&restored), want);

    // All occurrences an hour later (10:00–13:00 local): the exceptions follow their occurrence
    // (re-keyed to its new start), the moved one an hour later too.
    s.update_reservation("daily", &times("2025-03-28T10:00:00+01:00", "2025-03-28T13:00:00+01:00"), now).unwrap();
    assert_eq!(
        week(&s),
        vec![
            row("2025-03-28T09:00:00Z", "2025-03-28T09:00:00Z", "2025-03-28T12:00:00Z"),
            row("2025-03-29T09:00:00Z", "2025-03-29T09:00:00Z", "2025-03-29T12:00:00Z"),
            row("2025-03-30T08:00:00Z", "2025-03-30T13:00:00Z", "2025-03-30T14:00:00Z"),
            row("2025-04-01T08:00:00Z", "2025-04-01T08:00:00Z", "2025-04-01T11:00:00Z"),
        ]
    );
    // Moving it back onto the series' own window drops the exception.
    s.update_occurrence(
        "daily@2025-03-30T08:00:00Z",
        t("2025-03-30T08:00:00Z"),
        &times("2025-03-30T10:00:00+02:00", "2025-03-30T13:00:00+02:00"),
        now,
    )
    .unwrap();
    let rec = s.reservation("daily").unwrap();
    assert_eq!(rec.exceptions.len(), 1);
    assert!(rec.exceptions[0].cancelled);
}

#[test]
fn a_moved_occurrence_obeys_the_rules_of_a_one_off_reservation() {
    let now = t("2025-03-28T00:00:00Z");
    let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("vm", 2)]);
    reserve(&mut s, "daily", "vm/gpu0", "2025-03-28T09:00:00+01:00", "2025-03-28T12:00:00+01:00", true, now).unwrap();
    reserve(&mut s, "other", "vm/gpu0", "2025-03-30T14:00:00+02:00", "2025-03-30T16:00:00+02:00", false, now).unwrap();
    let sunday = t("2025-03-30T07:00:00Z");
    // Onto another reservation's GPU and time: refused with the reason, nothing changed.
    match s.update_occurrence("daily", sunday, &times("2025-03-30T15:00:00+02:00", "2025-03-30T17:00:00+02:00"), now) {
        Err(ReservationError::Conflict(why)) => {
            assert!(why.contains("overlaps reservation 'other' on vm/gpu0"), "{why}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(s.reservation("daily").unwrap().exceptions.is_empty());
    // Just before it is fine.
    s.update_occurrence("daily", sunday, &times("2025-03-30T12:00:00+02:00", "2025-03-30T14:00:00+02:00"), now)
        .unwrap();
    // One occurrence cannot change GPUs on its own.
    let gpus = ReservationChange { gpus: Some(vec!["vm/gpu1".into()]), ..Default::default() };
    assert!(matches!(s.update_occurrence("daily", sunday, &gpus, now), Err(ReservationError::Invalid(_))));
    // Nor end before it starts, nor be moved into the past.
    assert!(matches!(
        s.update_occurrence("daily", sunday, &times("2025-03-30T12:00:00Z", "2025-03-30T11:00:00Z"), now),
        Err(ReservationError::Invalid(_))
    ));
    assert!(s.update_occurrence("daily", sunday, &times("2025-03-27T12:00:00Z", "2025-03-27T13:00:00Z"), now).is_err());

    // Busy at the moved start: an allocation holds both GPUs until 04:00Z, before today's 08:00Z.
    let mut ask = AllocationRequest {
        id: Some("job".into()),
        owner: "bob".into(),
        resources: ResourceAsk { gpus: 2, cores: 2, memory_bytes: 1 << 30, ..Default::default() },
        priority: Some(Priority::Value(10)),
        qos: Qos::Burstable,
        duration_s: Some(4 * 3600),
        constraints: Default::default(),
        reservation: None,
        preemption: Default::default(),
        queue: false,
        workload: None,
    };
    assert_eq!(s.allocate(ask.clone(), now).unwrap().state, AllocState::Running);
    let today = t("2025-03-28T08:00:00Z");
    match s.update_occurrence("daily", today, &times("2025-03-28T02:00:00Z", "2025-03-28T03:00:00Z"), now) {
        Err(ReservationError::Conflict(why)) => assert!(why.contains("busy at the start"), "{why}"),
        other => panic!("expected busy, got {other:?}"),
    }
    s.update_occurrence("daily", today, &times("2025-03-28T05:00:00Z", "2025-03-28T06:00:00Z"), now).unwrap();
    // Once the moved occurrence is open, only allocations naming it run on its GPU.
    let later = t("2025-03-28T05:30:00Z");
    ask.id = Some("outside".into());
    ask.duration_s = Some(600);
    ask.resources.gpus = 2;
    assert!(s.allocate(ask, later).is_err(), "both GPUs are not free while the occurrence is open");
}
