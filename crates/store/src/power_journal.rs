//! The power manager's journal and plans. A change is written (state `pending`) before it is
//! made and moves on from there; plans are kept whole as JSON (they are read and shown whole).

use rusqlite::{OptionalExtension, Row, params};
use steward_core::power::{ChangeState, JournalEntry, Knob, PowerPlan};

use crate::allocations::{from_json, to_json};
use crate::{Store, StoreError};

/// A change about to be made.
#[derive(Debug, Clone)]
pub struct NewChange<'a> {
    pub plan_id: Option<&'a str>,
    pub node: &'a str,
    pub device: &'a str,
    pub knob: Knob,
    pub previous: Option<&'a str>,
    pub new: &'a str,
    pub who: &'a str,
    pub why: &'a str,
    pub leased: bool,
}

const COLUMNS: &str =
    "id, plan_id, node, device, knob, previous, new, who, why, at_ms, state, detail, leased, ended_ms";

fn bad_text(column: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.to_string().into())
}

fn entry(r: &Row<'_>) -> rusqlite::Result<JournalEntry> {
    let knob: String = r.get(4)?;
    let state: String = r.get(10)?;
    Ok(JournalEntry {
        id: r.get(0)?,
        plan_id: r.get(1)?,
        node: r.get(2)?,
        device: r.get(3)?,
        knob: Knob::parse(&knob).ok_or_else(|| bad_text(4, "unknown knob"))?,
        previous: r.get(5)?,
        new: r.get(6)?,
        who: r.get(7)?,
        why: r.get(8)?,
        at_ms: r.get(9)?,
        state: ChangeState::parse(&state).ok_or_else(|| bad_text(10, "unknown change state"))?,
        detail: r.get(11)?,
        leased: r.get(12)?,
        ended_ms: r.get(13)?,
    })
}

impl Store {
    /// Journals a change as `pending`, before it is made; returns its id.
    pub fn journal_change(&mut self, c: &NewChange<'_>, now_ms: i64) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO power_changes (plan_id, node, device, knob, previous, new, who, why, at_ms, state, leased)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10)",
            params![c.plan_id, c.node, c.device, c.knob.as_str(), c.previous, c.new, c.who, c.why, now_ms, c.leased],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Moves a change to `state`; `ended_ms` for a rollback or restore.
    pub fn set_change_state(
        &mut self,
        id: i64,
        state: ChangeState,
        detail: Option<&str>,
        ended_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE power_changes SET state = ?2, detail = COALESCE(?3, detail), ended_ms = COALESCE(?4, ended_ms)
             WHERE id = ?1",
            params![id, state.as_str(), detail, ended_ms],
        )?;
        Ok(())
    }

    /// The newest `limit` changes, newest first.
    pub fn power_journal(&self, limit: u32) -> Result<Vec<JournalEntry>, StoreError> {
        let mut stmt = self.conn.prepare(&format!("SELECT {COLUMNS} FROM power_changes ORDER BY id DESC LIMIT ?1"))?;
        Ok(stmt.query_map([limit], entry)?.collect::<Result<_, _>>()?)
    }

    pub fn power_change(&self, id: i64) -> Result<Option<JournalEntry>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM power_changes WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], entry).optional()?)
    }

    /// A plan's changes, oldest first.
    pub fn plan_changes(&self, plan_id: &str) -> Result<Vec<JournalEntry>, StoreError> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {COLUMNS} FROM power_changes WHERE plan_id = ?1 ORDER BY id"))?;
        Ok(stmt.query_map([plan_id], entry)?.collect::<Result<_, _>>()?)
    }

    /// Leased changes still (possibly) in effect, oldest first: what a start must restore.
    pub fn leased_changes_in_effect(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM power_changes WHERE leased = 1 AND state IN ('pending', 'applied') ORDER BY id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        Ok(stmt.query_map([], entry)?.collect::<Result<_, _>>()?)
    }

    /// Inserts or replaces a plan.
    pub fn put_power_plan(&mut self, plan: &PowerPlan) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO power_plans (id, created_ms, plan) VALUES (?1, ?2, ?3)",
            params![plan.id, plan.created_ms, to_json(plan)?],
        )?;
        Ok(())
    }

    pub fn power_plan(&self, id: &str) -> Result<Option<PowerPlan>, StoreError> {
        let json: Option<String> =
            self.conn.query_row("SELECT plan FROM power_plans WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        Ok(json.map(|j| from_json(&j)).transpose()?)
    }

    /// The newest `limit` plans, newest first.
    pub fn power_plans(&self, limit: u32) -> Result<Vec<PowerPlan>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT plan FROM power_plans ORDER BY created_ms DESC, id DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit], |r| from_json(&r.get::<_, String>(0)?))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change<'a>(plan: Option<&'a str>, device: &'a str) -> NewChange<'a> {
        NewChange {
            plan_id: plan,
            node: "local",
            device,
            knob: Knob::GpuPowerLimit,
            previous: Some("250"),
            new: "200",
            who: "test",
            why: "plan at 15 %",
            leased: true,
        }
    }

    #[test]
    fn the_journal_survives_reopening_and_knows_what_is_still_in_effect() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let (a, b) = {
            let mut s = Store::open(&path).unwrap();
            let a = s.journal_change(&change(Some("p1"), "gpu0"), 10).unwrap();
            let b = s.journal_change(&change(Some("p1"), "gpu1"), 11).unwrap();
            s.set_change_state(a, ChangeState::Applied, None, None).unwrap();
            let c = s.journal_change(&change(None, "gpu0"), 12).unwrap();
            s.set_change_state(c, ChangeState::Denied, Some("would …; cannot: no permission"), None).unwrap();
            (a, b)
        };
        let mut s = Store::open(&path).unwrap();
        let open: Vec<i64> = s.leased_changes_in_effect().unwrap().iter().map(|e| e.id).collect();
        assert_eq!(open, [a, b], "pending counts: its effect is unknown");
        s.set_change_state(b, ChangeState::RolledBack, Some("rolled back by test"), Some(20)).unwrap();
        let entry = s.power_change(b).unwrap().unwrap();
        assert_eq!(
            (entry.state, entry.ended_ms, entry.previous.as_deref()),
            (ChangeState::RolledBack, Some(20), Some("250"))
        );
        assert_eq!(s.plan_changes("p1").unwrap().len(), 2);
        let journal = s.power_journal(10).unwrap();
        assert_eq!(journal.len(), 3);
        assert_eq!(journal[0].state, ChangeState::Denied);
        assert!(s.power_change(999).unwrap().is_none());
    }
}
