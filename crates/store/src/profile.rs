//! Profiling state: module definitions and bottleneck events.

use rusqlite::params;
use steward_core::profile::module::{Matcher, ModuleSpec};
use steward_core::profile::{EventKind, ProfileEvent, Resource, Severity};

use crate::{Store, StoreError};

/// The most events one call returns.
pub const MAX_EVENTS_RETURNED: u32 = 10_000;

fn to_row(m: &Matcher) -> (&'static str, String) {
    match m {
        Matcher::Cgroup { prefix } => ("cgroup", prefix.clone()),
        Matcher::Executable { name } => ("executable", name.clone()),
        Matcher::Command { pattern } => ("command", pattern.clone()),
        Matcher::User { name } => ("user", name.clone()),
        Matcher::Pids { pids } => ("pids", pids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")),
    }
}

fn from_row(kind: &str, value: String) -> Option<Matcher> {
    Some(match kind {
        "cgroup" => Matcher::Cgroup { prefix: value },
        "executable" => Matcher::Executable { name: value },
        "command" => Matcher::Command { pattern: value },
        "user" => Matcher::User { name: value },
        "pids" => Matcher::Pids { pids: value.split(',').filter_map(|p| p.parse().ok()).collect() },
        _ => return None,
    })
}

impl Store {
    /// Every module, by name.
    pub fn modules(&self) -> Result<Vec<ModuleSpec>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT m.name, x.kind, x.value FROM modules m LEFT JOIN module_matchers x ON x.module = m.name
             ORDER BY m.name, x.position",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?))
        })?;
        let mut out: Vec<ModuleSpec> = Vec::new();
        for row in rows {
            let (name, kind, value) = row?;
            if out.last().is_none_or(|m| m.name != name) {
                out.push(ModuleSpec { name, matchers: vec![] });
            }
            if let (Some(kind), Some(value)) = (kind, value) {
                // An unknown kind comes from a newer build's row: skip it rather than fail.
                if let (Some(m), Some(last)) = (from_row(&kind, value), out.last_mut()) {
                    last.matchers.push(m);
                }
            }
        }
        Ok(out)
    }

    /// Creates or replaces a module. Returns true when it replaced one.
    pub fn put_module(&mut self, spec: &ModuleSpec, now_ms: i64) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM module_matchers WHERE module = ?1", [&spec.name])?;
        let existed = tx.execute("UPDATE modules SET name = name WHERE name = ?1", [&spec.name])? > 0;
        tx.execute("INSERT OR IGNORE INTO modules (name, created_ms) VALUES (?1, ?2)", params![spec.name, now_ms])?;
        for (i, m) in spec.matchers.iter().enumerate() {
            let (kind, value) = to_row(m);
            tx.execute(
                "INSERT INTO module_matchers (module, position, kind, value) VALUES (?1, ?2, ?3, ?4)",
                params![spec.name, i as i64, kind, value],
            )?;
        }
        tx.commit()?;
        Ok(existed)
    }

    /// Removes a module; false when there was none of that name. Its history series stay.
    pub fn delete_module(&mut self, name: &str) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM module_matchers WHERE module = ?1", [name])?;
        let n = tx.execute("DELETE FROM modules WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(n > 0)
    }

    pub fn insert_profile_events(&mut self, events: &[ProfileEvent]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO profile_events (ts_ms, kind, key, resource, severity, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in events {
                stmt.execute(params![
                    e.ts_ms,
                    e.kind.as_str(),
                    e.key,
                    e.resource.as_str(),
                    e.severity.as_str(),
                    e.summary
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Events at or after `since_ms`, oldest first, at most `limit` (the newest ones).
    pub fn profile_events(&self, since_ms: i64, limit: u32) -> Result<Vec<ProfileEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ts_ms, kind, key, resource, severity, summary FROM profile_events
             WHERE ts_ms >= ?1 ORDER BY ts_ms DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![since_ms, limit.min(MAX_EVENTS_RETURNED)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (ts_ms, kind, key, resource, severity, summary) = row?;
            let (Some(kind), Some(resource), Some(severity)) =
                (EventKind::parse(&kind), Resource::parse(&resource), Severity::parse(&severity))
            else {
                continue;
            };
            out.push(ProfileEvent { ts_ms, kind, key, resource, severity, summary });
        }
        out.reverse();
        Ok(out)
    }
}
