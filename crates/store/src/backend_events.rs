//! Events an external cluster engine (Slurm) reported, numbered here in arrival order and kept
//! across restarts; the oldest beyond `KEPT` are dropped.

use rusqlite::params;
use steward_core::alloc::Event;

use crate::allocations::{from_json, to_json};
use crate::{Store, StoreError};

const KEPT: i64 = 10_000;

impl Store {
    /// Appends events in one transaction, numbering them after the newest kept; the numbered
    /// events.
    pub fn add_backend_events(&mut self, events: Vec<Event>) -> Result<Vec<Event>, StoreError> {
        if events.is_empty() {
            return Ok(events);
        }
        let tx = self.conn.transaction()?;
        let last: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM backend_events", [], |r| r.get(0))?;
        let mut numbered = Vec::with_capacity(events.len());
        for (e, id) in events.into_iter().zip(last + 1..) {
            let e = Event { id, ..e };
            tx.execute(
                "INSERT INTO backend_events (id, time_ms, kind, body) VALUES (?1, ?2, ?3, ?4)",
                params![e.id, e.time, e.kind, to_json(&e)?],
            )?;
            numbered.push(e);
        }
        tx.execute("DELETE FROM backend_events WHERE id <= ?1", params![last + numbered.len() as i64 - KEPT])?;
        tx.commit()?;
        Ok(numbered)
    }

    /// The newest events first, of one kind or all.
    pub fn backend_events(&self, kind: Option<&str>, limit: usize) -> Result<Vec<Event>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body FROM backend_events WHERE (?1 IS NULL OR kind = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![kind, limit as i64], |r| from_json::<Event>(&r.get::<_, String>(0)?))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, subject: &str) -> Event {
        Event {
            id: 0,
            time: 1_000,
            kind: kind.into(),
            subject: subject.into(),
            message: format!("{subject} {kind}"),
            details: Default::default(),
        }
    }

    #[test]
    fn events_are_numbered_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.db");
        {
            let mut store = Store::open(&path).unwrap();
            let first = store.add_backend_events(vec![event("queued", "slurm-1"), event("allocated", "slurm-1")]);
            assert_eq!(first.unwrap().iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);
        }
        let mut store = Store::open(&path).unwrap();
        let next = store.add_backend_events(vec![event("ended", "slurm-1")]).unwrap();
        assert_eq!(next[0].id, 3, "numbering goes on after a restart");
        let newest = store.backend_events(None, 10).unwrap();
        assert_eq!(newest.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["ended", "allocated", "queued"]);
        assert_eq!(store.backend_events(Some("allocated"), 10).unwrap().len(), 1);
    }
}
