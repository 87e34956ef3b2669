//! Degradation state that must outlive a restart: policies set through the API, people's
//! overrides, the groups of steps in force (so a restart gives back what was taken instead of
//! forgetting it), and the timeline of constraints and steps (the newest `KEPT_EVENTS`).

use rusqlite::params;
use steward_core::degrade::{DegradationEvent, DegradationPolicy, DegradeGroup, ModuleOverride};

use crate::allocations::{from_json, to_json};
use crate::{Store, StoreError};

pub const KEPT_EVENTS: i64 = 5_000;

/// What `Store::degradation_state` reads back.
#[derive(Debug, Default)]
pub struct DegradationState {
    /// `None` when no policy was ever set through the API (the configured ones are in force).
    pub policies: Option<Vec<DegradationPolicy>>,
    pub overrides: Vec<ModuleOverride>,
    pub groups: Vec<DegradeGroup>,
}

impl Store {
    pub fn degradation_state(&self) -> Result<DegradationState, StoreError> {
        let mut stmt = self.conn.prepare("SELECT kind, json FROM degradation_settings ORDER BY kind, name")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut state = DegradationState::default();
        for row in rows {
            let (kind, json) = row?;
            match kind.as_str() {
                "policies" => state.policies = Some(from_json(&json)?),
                "override" => state.overrides.push(from_json(&json)?),
                "groups" => state.groups = from_json(&json)?,
                _ => {}
            }
        }
        Ok(state)
    }

    /// Replaces the policy list (the whole list: order matters).
    pub fn put_degradation_policies(&mut self, policies: &[DegradationPolicy]) -> Result<(), StoreError> {
        self.put_setting("policies", "", &to_json(&policies)?)
    }

    pub fn put_degradation_groups(&mut self, groups: &[DegradeGroup]) -> Result<(), StoreError> {
        self.put_setting("groups", "", &to_json(&groups)?)
    }

    pub fn put_module_override(&mut self, o: &ModuleOverride) -> Result<(), StoreError> {
        self.put_setting("override", &o.module, &to_json(o)?)
    }

    pub fn delete_module_override(&mut self, module: &str) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM degradation_settings WHERE kind = 'override' AND name = ?1", params![module])?;
        Ok(())
    }

    fn put_setting(&mut self, kind: &str, name: &str, json: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO degradation_settings (kind, name, json) VALUES (?1, ?2, ?3)
             ON CONFLICT (kind, name) DO UPDATE SET json = excluded.json",
            params![kind, name, json],
        )?;
        Ok(())
    }

    /// Appends events in one transaction, dropping the oldest beyond `KEPT_EVENTS`.
    pub fn add_degradation_events(&mut self, events: &[DegradationEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        for e in events {
            tx.execute("INSERT INTO degradation_events (ts_ms, json) VALUES (?1, ?2)", params![e.ts_ms, to_json(e)?])?;
        }
        tx.execute(
            "DELETE FROM degradation_events WHERE id <= (SELECT MAX(id) FROM degradation_events) - ?1",
            params![KEPT_EVENTS],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Events at or after `since_ms`, oldest first, at most `limit` (the newest of them).
    pub fn degradation_events(&self, since_ms: i64, limit: usize) -> Result<Vec<DegradationEvent>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT json FROM degradation_events WHERE ts_ms >= ?1 ORDER BY id DESC LIMIT ?2")?;
        let rows = stmt.query_map(params![since_ms, limit as i64], |r| from_json(&r.get::<_, String>(0)?))?;
        let mut out = rows.collect::<Result<Vec<DegradationEvent>, _>>()?;
        out.reverse();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_core::degrade::EventDetail;

    #[test]
    fn overrides_policies_and_events_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let mut s = Store::open(&path).unwrap();
            let o = ModuleOverride {
                module: "learning".into(),
                force_level: Some(1),
                pinned_features: vec![],
                exempt: false,
                by: "ana".into(),
                at_ms: 5,
                reason: String::new(),
            };
            s.put_module_override(&o).unwrap();
            s.put_degradation_policies(&steward_core::degrade::policy::defaults()[..2]).unwrap();
            let ev = DegradationEvent {
                ts_ms: 7,
                detail: EventDetail::OverrideReleased { module: "x".into(), by: "ana".into() },
            };
            s.add_degradation_events(&[ev.clone(), ev]).unwrap();
        }
        let s = Store::open(&path).unwrap();
        let st = s.degradation_state().unwrap();
        assert_eq!(st.overrides[0].force_level, Some(1));
        assert_eq!(st.policies.unwrap().len(), 2);
        assert_eq!(s.degradation_events(0, 10).unwrap().len(), 2);
        assert!(s.degradation_events(8, 10).unwrap().is_empty());
    }
}
