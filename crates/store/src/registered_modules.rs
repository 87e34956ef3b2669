//! Modules registered through the module API, per node, with their latest report and the
//! directives sent to them: after a restart the control center still knows who was registered
//! and what each was told. Goodput needs two live reports and is not kept.

use rusqlite::params;
use steward_core::module_status::{DirectiveRecord, ModuleState, ModuleStatus};

use crate::allocations::{from_json, to_json};
use crate::{Store, StoreError};

/// Directives kept per module, newest; older ones are deleted as new ones arrive.
pub const KEPT_DIRECTIVES: i64 = 200;

impl Store {
    /// Every registered module (deregistered ones included) with its latest `directives`
    /// directives, oldest first, ordered by node and name.
    pub fn registered_modules(&self, directives: usize) -> Result<Vec<ModuleStatus>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT node, name, registration, state, lost_reason, registered_ms, last_report_ms, report
             FROM registered_modules ORDER BY node, name",
        )?;
        let rows = stmt.query_map([], |r| {
            let report: Option<String> = r.get(7)?;
            Ok(ModuleStatus {
                node: r.get(0)?,
                registration: from_json(&r.get::<_, String>(2)?)?,
                state: state_from_name(&r.get::<_, String>(3)?),
                lost_reason: r.get(4)?,
                registered_ms: r.get(5)?,
                last_report_ms: r.get(6)?,
                report: report.as_deref().map(from_json).transpose()?,
                goodput_per_s: None,
                directives: Vec::new(),
            })
        })?;
        let mut modules = rows.collect::<Result<Vec<_>, _>>()?;
        for m in &mut modules {
            m.directives = self.module_directives(&m.node, &m.registration.name, directives)?;
        }
        Ok(modules)
    }

    fn module_directives(&self, node: &str, name: &str, limit: usize) -> Result<Vec<DirectiveRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT directive, sent_ms, ack, acked_ms FROM module_directives WHERE node = ?1 AND name = ?2
             ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![node, name, limit as i64], |r| {
            let ack: Option<String> = r.get(2)?;
            Ok(DirectiveRecord {
                order: from_json(&r.get::<_, String>(0)?)?,
                sent_ms: r.get(1)?,
                ack: ack.as_deref().map(from_json).transpose()?,
                acked_ms: r.get(3)?,
            })
        })?;
        let mut out = rows.collect::<Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// Writes a module's registration, state and latest report (not its directives).
    pub fn put_registered_module(&mut self, m: &ModuleStatus) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO registered_modules
             (node, name, registration, state, lost_reason, registered_ms, last_report_ms, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                m.node,
                m.registration.name,
                to_json(&m.registration)?,
                state_name(m.state),
                m.lost_reason,
                m.registered_ms,
                m.last_report_ms,
                m.report.as_ref().map(to_json).transpose()?,
            ],
        )?;
        Ok(())
    }

    /// Writes a directive (again, once it is acknowledged) and forgets the module's oldest
    /// beyond [`KEPT_DIRECTIVES`].
    pub fn put_module_directive(&mut self, node: &str, name: &str, d: &DirectiveRecord) -> Result<(), StoreError> {
        let id = i64::try_from(d.order.id).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO module_directives (node, name, id, sent_ms, directive, ack, acked_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                node,
                name,
                id,
                d.sent_ms,
                to_json(&d.order)?,
                d.ack.as_ref().map(to_json).transpose()?,
                d.acked_ms
            ],
        )?;
        tx.execute(
            "DELETE FROM module_directives WHERE node = ?1 AND name = ?2 AND id <= ?3",
            params![node, name, id - KEPT_DIRECTIVES],
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn state_name(state: ModuleState) -> &'static str {
    match state {
        ModuleState::Active => "active",
        ModuleState::Lost => "lost",
        ModuleState::Deregistered => "deregistered",
    }
}

/// An unknown word (written by a newer build) reads as lost: the module must register again.
fn state_from_name(name: &str) -> ModuleState {
    match name {
        "active" => ModuleState::Active,
        "deregistered" => ModuleState::Deregistered,
        _ => ModuleState::Lost,
    }
}

#[cfg(test)]
mod tests {
    use steward_core::registration::{Ack, Criticality, Directive, DirectiveOrder, QualityLevel, Registration};

    use super::*;

    fn module(node: &str, name: &str) -> ModuleStatus {
        ModuleStatus {
            node: node.into(),
            registration: Registration {
                name: name.into(),
                role: "memory".into(),
                criticality: Criticality::Sheddable,
                features: vec![],
                quality_levels: vec![QualityLevel {
                    level: 0,
                    label: "full".into(),
                    cpu_millis: Some(500),
                    memory_bytes: None,
                    gpu_memory_bytes: None,
                }],
                minimal_level: 0,
                pids: vec![7],
                report_interval_ms: 1000,
            },
            state: ModuleState::Active,
            lost_reason: None,
            registered_ms: 10,
            last_report_ms: None,
            report: None,
            goodput_per_s: None,
            directives: vec![],
        }
    }

    fn directive(id: u64) -> DirectiveRecord {
        DirectiveRecord {
            order: DirectiveOrder { id, directive: Directive::SetQuality { level: 1 }, reason: "test".into() },
            sent_ms: 100 + id as i64,
            ack: None,
            acked_ms: None,
        }
    }

    #[test]
    fn modules_and_their_directives_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut lost = module("node-b", "cache");
        lost.state = ModuleState::Lost;
        lost.lost_reason = Some("node down".into());
        let mut acked = directive(2);
        acked.ack = Some(Ack::Refused { reason: "busy".into() });
        acked.acked_ms = Some(500);
        {
            let mut s = Store::open(&path).unwrap();
            s.put_registered_module(&module("local", "vision")).unwrap();
            s.put_registered_module(&lost).unwrap();
            s.put_module_directive("local", "vision", &directive(1)).unwrap();
            s.put_module_directive("local", "vision", &directive(2)).unwrap();
            s.put_module_directive("local", "vision", &acked).unwrap();
        }
        let s = Store::open(&path).unwrap();
        let mut vision = module("local", "vision");
        vision.directives = vec![directive(1), acked];
        assert_eq!(s.registered_modules(10).unwrap(), vec![vision, lost]);
    }

    #[test]
    fn only_the_latest_directives_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        s.put_registered_module(&module("local", "vision")).unwrap();
        for id in 1..=(KEPT_DIRECTIVES as u64 + 5) {
            s.put_module_directive("local", "vision", &directive(id)).unwrap();
        }
        let kept = &s.registered_modules(1000).unwrap()[0].directives;
        assert_eq!(kept.len(), KEPT_DIRECTIVES as usize);
        assert_eq!(kept[0].order.id, 6);
    }
}
