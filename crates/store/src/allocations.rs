//! Allocations, reservations, their event log and the answers to requests already seen.
//!
//! One transaction per group of decisions (group commit): the changed records, the events and
//! the answers of the requests decided together commit at once, before any of them is
//! answered, so after a crash either all of it is there or none, and a retried request id finds
//! its original answer.
//!
//! An allocation is written whole (a JSON document, with its request) once, at admission; later
//! decisions append small rows to `alloc_log`, folded into `alloc_live` once the log passes
//! 2^18 rows (updating documents in place rewrote most of the table's pages on every commit).
//! A load replays document → live row → log. Reservations, events and request answers are JSON
//! records.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};
use steward_core::alloc::{AllocState, Allocation, Changes, Event, Reservation};

use crate::{Store, StoreError};

/// Everything the scheduler needs to come back after a restart.
#[derive(Debug, Default)]
pub struct AllocationState {
    pub allocations: Vec<Allocation>,
    pub reservations: Vec<Reservation>,
    /// The id the next event gets.
    pub next_event_id: i64,
}

/// An API request's answer, kept under its id so a retry gets the same answer.
pub struct RequestAnswer<'a> {
    pub request_id: &'a str,
    pub time_ms: i64,
    pub response_json: &'a str,
    /// The request as received (canonical JSON): a retry must send the same, or its id was
    /// reused for another request.
    pub request_json: &'a str,
}

/// An answer found under a request id, with the request it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub time_ms: i64,
    pub response_json: String,
    /// `None` for answers stored before requests were kept with them.
    pub request_json: Option<String>,
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn state_name(state: AllocState) -> &'static str {
    match state {
        AllocState::Running => "running",
        AllocState::Pending => "pending",
        AllocState::Preempted => "preempted",
        AllocState::Suspended => "suspended",
        AllocState::Finished => "finished",
        AllocState::Cancelled => "cancelled",
    }
}

fn state_of(name: &str) -> rusqlite::Result<AllocState> {
    from_json(&format!("\"{name}\""))
}

/// The columns of `alloc_live` and `alloc_log`, in their order, after the id.
const LIVE: &str = "state, reason, node, gpus, cores, memory_bytes, start_ms, end_ms, preemption, preemptions";

/// Log rows beyond which a commit first folds the log into `alloc_live` (a rewrite of that
/// table, so kept rare).
const FOLD_LOG_ROWS: i64 = 1 << 18;

/// Overlays a record's `alloc_live` row (columns `at..`) on its admitted document.
fn apply_live(a: &mut Allocation, r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<()> {
    let Some(state) = r.get::<_, Option<String>>(at)? else {
        return Ok(()); // written before alloc_live existed: the document is the record
    };
    a.state = state_of(&state)?;
    a.pending_reason = r.get(at + 1)?;
    a.node = r.get(at + 2)?;
    a.gpus = from_json(&r.get::<_, String>(at + 3)?)?;
    a.cores = r.get(at + 4)?;
    a.memory_bytes = r.get::<_, i64>(at + 5)? as u64;
    a.start_time = r.get(at + 6)?;
    a.end_time = r.get(at + 7)?;
    a.preemption = r.get::<_, Option<String>>(at + 8)?.map(|p| from_json(&p)).transpose()?;
    a.preemptions = r.get(at + 9)?;
    Ok(())
}

/// Each logged allocation's newest row replaces its `alloc_live` row; the log empties.
fn fold_log(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(&format!(
        "INSERT OR REPLACE INTO alloc_live (id, {LIVE})
             SELECT id, {LIVE} FROM alloc_log WHERE seq IN (SELECT max(seq) FROM alloc_log GROUP BY id);
         DELETE FROM alloc_log;"
    ))?;
    Ok(())
}

impl Store {
    pub fn load_allocation_state(&self) -> Result<AllocationState, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT a.body, {} FROM alloc_allocations a LEFT JOIN alloc_live l ON l.id = a.id",
            LIVE.split(", ").map(|c| format!("l.{c}")).collect::<Vec<_>>().join(", ")
        ))?;
        let mut allocations = stmt
            .query_map([], |r| {
                let mut a = from_json::<Allocation>(&r.get::<_, String>(0)?)?;
                apply_live(&mut a, r, 1)?;
                Ok(a)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let index: HashMap<String, usize> = allocations.iter().enumerate().map(|(i, a)| (a.id.clone(), i)).collect();
        let mut stmt = self.conn.prepare(&format!("SELECT id, {LIVE} FROM alloc_log ORDER BY seq"))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            // Every logged id has its document (written in the same or an earlier commit).
            if let Some(&i) = index.get(&r.get::<_, String>(0)?) {
                apply_live(&mut allocations[i], r, 1)?;
            }
        }
        let mut stmt = self.conn.prepare("SELECT body FROM alloc_reservations ORDER BY id")?;
        let reservations = stmt
            .query_map([], |r| from_json::<Reservation>(&r.get::<_, String>(0)?))?
            .collect::<Result<Vec<_>, _>>()?;
        let last: Option<i64> = self.conn.query_row("SELECT max(id) FROM alloc_events", [], |r| r.get(0))?;
        // Submission order is the scheduler's tie-break of last resort; keep it stable.
        allocations.sort_by(|a, b| a.submitted_time.cmp(&b.submitted_time).then(a.id.cmp(&b.id)));
        Ok(AllocationState { allocations, reservations, next_event_id: last.unwrap_or(0) + 1 })
    }

    /// Commits a scheduler's changes, and the request's answer if there is one, atomically.
    pub fn commit_allocation_changes(
        &mut self,
        changes: &Changes,
        answer: Option<RequestAnswer<'_>>,
    ) -> Result<(), StoreError> {
        self.commit_allocation_batch(changes, answer.as_slice())
    }

    /// Commits a scheduler's changes and the answers of every request they decide, atomically.
    /// A new allocation gets its document; a known one, a row appended to `alloc_log`.
    pub fn commit_allocation_batch(
        &mut self,
        changes: &Changes,
        answers: &[RequestAnswer<'_>],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            // Two seeks (max and min together would scan the log).
            let logged: i64 = tx
                .prepare_cached(
                    "SELECT coalesce((SELECT max(seq) FROM alloc_log) - (SELECT min(seq) FROM alloc_log) + 1, 0)",
                )?
                .query_row([], |r| r.get(0))?;
            if logged >= FOLD_LOG_ROWS {
                fold_log(&tx)?;
            }
            let mut known = tx.prepare_cached("SELECT 1 FROM alloc_allocations WHERE id = ?1")?;
            let mut log = tx.prepare_cached(&format!(
                "INSERT INTO alloc_log (id, {LIVE}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ))?;
            let mut put = tx.prepare_cached("INSERT INTO alloc_allocations (id, state, body) VALUES (?1, ?2, ?3)")?;
            for a in &changes.allocations {
                if !known.exists([&a.id])? {
                    put.execute(params![a.id, state_name(a.state), to_json(a)?])?;
                    continue;
                }
                let preemption = a.preemption.as_ref().map(to_json).transpose()?;
                log.execute(params![
                    a.id,
                    state_name(a.state),
                    a.pending_reason,
                    a.node,
                    to_json(&a.gpus)?,
                    a.cores,
                    a.memory_bytes as i64,
                    a.start_time,
                    a.end_time,
                    preemption,
                    a.preemptions
                ])?;
            }
            let mut put = tx.prepare_cached("INSERT OR REPLACE INTO alloc_reservations (id, body) VALUES (?1, ?2)")?;
            for r in &changes.reservations {
                put.execute(params![r.id, to_json(r)?])?;
            }
            let mut del = tx.prepare_cached("DELETE FROM alloc_reservations WHERE id = ?1")?;
            for id in &changes.deleted_reservations {
                del.execute([id])?;
            }
            let mut ev = tx.prepare_cached(
                "INSERT INTO alloc_events (id, time_ms, kind, subject, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for e in &changes.events {
                ev.execute(params![e.id, e.time, e.kind, e.subject, to_json(e)?])?;
            }
            let mut put = tx.prepare_cached(
                "INSERT INTO alloc_requests (request_id, time_ms, response, request) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for a in answers {
                put.execute(params![a.request_id, a.time_ms, a.response_json, a.request_json])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Folds `alloc_log` into `alloc_live` now (commits do it when the log grows long).
    pub fn fold_allocation_log(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        fold_log(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// The stored answer to request `request_id`, if it was answered before.
    pub fn request_answer(&self, request_id: &str) -> Result<Option<StoredAnswer>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT time_ms, response, request FROM alloc_requests WHERE request_id = ?1")?
            .query_row([request_id], |r| {
                Ok(StoredAnswer { time_ms: r.get(0)?, response_json: r.get(1)?, request_json: r.get(2)? })
            })
            .optional()?)
    }

    /// The newest events first, of one kind or all.
    pub fn allocation_events(&self, kind: Option<&str>, limit: u32) -> Result<Vec<Event>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body FROM alloc_events WHERE (?1 IS NULL OR kind = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![kind, limit], |r| from_json::<Event>(&r.get::<_, String>(0)?))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use steward_core::alloc::*;

    use super::*;

    fn node() -> NodeResources {
        NodeResources {
            node: "n".into(),
            cores: 8,
            memory_bytes: 1 << 34,
            labels: Default::default(),
            gpus: (0..2)
                .map(|i| GpuResource {
                    id: NodeResources::gpu_id("n", i),
                    index: i,
                    name: "GPU".into(),
                    memory_bytes: 1 << 34,
                    mig: vec![],
                })
                .collect(),
            accelerators: vec![],
        }
    }

    #[test]
    fn decisions_survive_reopening_and_answers_are_found_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node()]);
        let req: AllocationRequest =
            serde_json::from_str(r#"{"id":"job1","owner":"ann","resources":{"gpus":1,"cores":2},"qos":"best_effort"}"#)
                .unwrap();
        s.allocate(req, 1_000).unwrap();
        let hi: AllocationRequest =
            serde_json::from_str(r#"{"id":"job2","owner":"bob","resources":{"gpus":2},"priority":"critical"}"#)
                .unwrap();
        s.allocate(hi, 2_000).unwrap();
        {
            let mut store = Store::open(&path).unwrap();
            let changes = s.take_changes();
            assert!(!changes.events.is_empty());
            store
                .commit_allocation_changes(
                    &changes,
                    Some(RequestAnswer {
                        request_id: "job2",
                        time_ms: 2_000,
                        response_json: "{\"ok\":1}",
                        request_json: "{\"id\":\"job2\"}",
                    }),
                )
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let state = store.load_allocation_state().unwrap();
        assert_eq!(state.allocations.len(), 2);
        assert_eq!(state.allocations[1].state, AllocState::Running);
        assert_eq!(state.allocations[0].state, AllocState::Pending);
        let answer = store.request_answer("job2").unwrap().unwrap();
        assert_eq!(
            (answer.time_ms, answer.response_json.as_str(), answer.request_json.as_deref()),
            (2_000, "{\"ok\":1}", Some("{\"id\":\"job2\"}"))
        );
        assert_eq!(store.request_answer("job3").unwrap(), None);
        let events = store.allocation_events(Some("preemption"), 10).unwrap();
        assert_eq!(events.len(), 1);
        assert!(state.next_event_id > events[0].id);
        let restored = Scheduler::restore(
            SchedulerConfig::default(),
            vec![node()],
            state.reservations,
            state.allocations,
            state.next_event_id,
        );
        assert_eq!(restored.allocation("job2").unwrap().gpus.len(), 2);
    }

    #[test]
    fn later_decisions_are_logged_folded_and_reload_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let mut store = Store::open(&path).unwrap();
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node()]);
        let req = |json: &str| serde_json::from_str::<AllocationRequest>(json).unwrap();
        s.enqueue(req(r#"{"id":"low","owner":"ann","resources":{"gpus":2,"cores":2},"qos":"best_effort","preemption":{"mode":"requeue","grace_s":60}}"#), 0).unwrap();
        store.commit_allocation_changes(&s.take_changes(), None).unwrap();
        s.tick(1_000);
        store.commit_allocation_changes(&s.take_changes(), None).unwrap();
        // A critical request preempts it with a grace period: the victim carries its pending
        // preemption, the preemptor waits.
        s.allocate(
            req(r#"{"id":"hi","owner":"bob","resources":{"gpus":1},"priority":"critical","duration_s":600}"#),
            2_000,
        )
        .unwrap();
        store.commit_allocation_changes(&s.take_changes(), None).unwrap();
        assert!(s.allocation("low").unwrap().preemption.is_some());
        let check = |s: &Scheduler, store: &Store| {
            let state = store.load_allocation_state().unwrap();
            let mut want = s.allocations().to_vec();
            want.sort_by(|a, b| a.submitted_time.cmp(&b.submitted_time).then(a.id.cmp(&b.id)));
            assert_eq!(state.allocations, want);
        };
        check(&s, &store);
        // Grace over: the victim requeues, the preemptor runs; later it finishes.
        s.tick(62_000);
        store.commit_allocation_changes(&s.take_changes(), None).unwrap();
        assert_eq!(s.allocation("hi").unwrap().state, AllocState::Running);
        check(&s, &store);
        s.tick(700_000);
        store.commit_allocation_changes(&s.take_changes(), None).unwrap();
        assert_eq!(s.allocation("hi").unwrap().state, AllocState::Finished);
        check(&s, &store);
        // Folded into alloc_live, then logged again on top.
        let logged =
            |store: &Store| store.conn.query_row("SELECT count(*) FROM alloc_log", [], |r| r.get::<_, i64>(0)).unwrap();
        assert!(logged(&store) > 0);
        store.fold_allocation_log().unwrap();
        assert_eq!(logged(&store), 0);
        check(&s, &store);
        s.cancel("low", 800_000).unwrap();
        store.commit_allocation_changes(&s.take_changes(), None).unwrap();
        assert_eq!(logged(&store), 1);
        check(&s, &store);
        drop(store);
        // And through a reopened file.
        check(&s, &Store::open(&path).unwrap());
    }

    #[test]
    fn a_record_written_before_the_live_table_loads_and_updates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let mut store = Store::open(&path).unwrap();
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node()]);
        let req: AllocationRequest =
            serde_json::from_str(r#"{"id":"old","owner":"ann","resources":{"gpus":1},"duration_s":60}"#).unwrap();
        s.allocate(req, 1_000).unwrap();
        store.commit_allocation_changes(&s.take_changes(), None).unwrap();
        // As migration 5 left it: the document alone (a new record is only that anyway).
        store.conn.execute("DELETE FROM alloc_live", []).unwrap();
        store.conn.execute("DELETE FROM alloc_log", []).unwrap();
        let state = store.load_allocation_state().unwrap();
        assert_eq!(state.allocations, s.allocations());
        let mut s = Scheduler::restore(
            SchedulerConfig::default(),
            vec![node()],
            vec![],
            state.allocations,
            state.next_event_id,
        );
        s.tick(100_000);
        store.commit_allocation_changes(&s.take_changes(), None).unwrap();
        let state = store.load_allocation_state().unwrap();
        assert_eq!(state.allocations[0].state, AllocState::Finished);
        assert_eq!(state.allocations, s.allocations());
    }

    #[test]
    fn a_second_answer_for_the_same_id_is_refused_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("a.db")).unwrap();
        let answer = || Some(RequestAnswer { request_id: "r", time_ms: 0, response_json: "{}", request_json: "{}" });
        store.commit_allocation_changes(&Changes::default(), answer()).unwrap();
        assert!(store.commit_allocation_changes(&Changes::default(), answer()).is_err());
    }
}
