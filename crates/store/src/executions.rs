//! Distributed execution records: one JSON document per execution (steward-core's
//! `Execution`), with the columns queries filter on. Written before an attempt is sent to an
//! agent, so after a restart every attempt that may be running is known and re-attached,
//! never started a second time.

use rusqlite::{OptionalExtension, params};
use steward_core::dispatch::{ExecStatus, Execution, task_hash};

use crate::allocations::{from_json, to_json};
use crate::{Store, StoreError};

fn status_name(s: ExecStatus) -> Result<String, StoreError> {
    Ok(to_json(&s)?.trim_matches('"').to_string())
}

fn status_from_name(name: &str) -> Result<ExecStatus, StoreError> {
    Ok(from_json(&format!("\"{name}\""))?)
}

impl Store {
    /// Inserts or updates these executions, in one transaction. An update rewrites the row in
    /// place (its task, so its hash and creation time, never change): a replace would delete
    /// and re-insert it, touching every index.
    pub fn put_executions<'a>(
        &mut self,
        executions: impl IntoIterator<Item = &'a Execution>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT INTO dispatch_executions (id, status, task_hash, created_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body",
            )?;
            for e in executions {
                // Tasks that opted out of reuse are never looked up by hash.
                let hash = if e.task.reuse { task_hash(&e.task) } else { String::new() };
                put.execute(params![e.id, status_name(e.status)?, hash, e.created_ms, to_json(e)?])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every execution not yet ended, and the newest `recent` ended ones, oldest first.
    pub fn load_executions(&self, recent: u32) -> Result<Vec<Execution>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT body FROM dispatch_executions WHERE status IN ('waiting', 'running')
             UNION ALL
             SELECT body FROM (SELECT body FROM dispatch_executions WHERE status NOT IN ('waiting', 'running')
                               ORDER BY rowid DESC LIMIT ?1)",
        )?;
        let mut all = stmt
            .query_map([recent], |r| from_json::<Execution>(&r.get::<_, String>(0)?))?
            .collect::<Result<Vec<_>, _>>()?;
        all.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    pub fn execution(&self, id: &str) -> Result<Option<Execution>, StoreError> {
        let body: Option<String> = self
            .conn
            .prepare_cached("SELECT body FROM dispatch_executions WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        body.map(|b| {
            serde_json::from_str(&b).map_err(|e| {
                StoreError::Sqlite(rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                ))
            })
        })
        .transpose()
    }

    /// Execution `id`'s status, without reading its document.
    pub fn execution_status(&self, id: &str) -> Result<Option<ExecStatus>, StoreError> {
        let name: Option<String> = self
            .conn
            .prepare_cached("SELECT status FROM dispatch_executions WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        name.as_deref().map(status_from_name).transpose()
    }

    /// The status of task `task_id`'s newest execution. Reads every execution's document (no
    /// index: the executor keeps recent tasks in memory, so only a dependency on one that
    /// ended long ago, or before a restart, comes here).
    pub fn task_status(&self, task_id: &str) -> Result<Option<ExecStatus>, StoreError> {
        let name: Option<String> = self
            .conn
            .prepare_cached("SELECT status FROM dispatch_executions WHERE json_extract(body, '$.task_id') = ?1 ORDER BY rowid DESC LIMIT 1")?
            .query_row([task_id], |r| r.get(0))
            .optional()?;
        name.as_deref().map(status_from_name).transpose()
    }

    /// The newest succeeded execution whose command and inputs hash to `hash` (computation reuse).
    pub fn succeeded_execution_with_hash(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM dispatch_executions WHERE task_hash = ?1 AND task_hash <> '' AND status = 'succeeded' ORDER BY created_ms DESC LIMIT 1")?
            .query_row([hash], |r| r.get(0))
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use steward_core::dispatch::*;

    use super::*;

    fn exec(id: &str, created: i64) -> Execution {
        let task = TaskSpec::new(vec!["echo".into(), "{start}".into()], InputSpec::Range { start: 0, end: 4 });
        Execution::new(id.into(), task, split(&InputSpec::Range { start: 0, end: 4 }, 2), vec![None, None], created)
    }

    #[test]
    fn executions_survive_reopening_and_are_found_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        {
            let mut store = Store::open(&path).unwrap();
            let mut done = exec("old", 1);
            done.status = ExecStatus::Succeeded;
            store.put_executions([&exec("e1", 5), &done, &exec("e0", 3)]).unwrap();
            let mut again = exec("e1", 5);
            again.retries = 3;
            store.put_executions([&again]).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let all = store.load_executions(10).unwrap();
        assert_eq!(all.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["old", "e0", "e1"]);
        assert_eq!(all[2].retries, 3);
        assert_eq!(store.load_executions(0).unwrap().len(), 2, "ended ones beyond `recent` are not loaded");
        assert_eq!(store.execution("e1").unwrap().unwrap().partitions.len(), 2);
        assert_eq!(store.execution("nope").unwrap(), None);
        let hash = task_hash(&exec("x", 0).task);
        assert_eq!(store.succeeded_execution_with_hash(&hash).unwrap().as_deref(), Some("old"));
        assert_eq!(store.succeeded_execution_with_hash("0").unwrap(), None);
    }

    #[test]
    fn only_unfinished_and_reusable_executions_are_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("d.db")).unwrap();
        let mut opted_out = exec("once", 1);
        opted_out.task.reuse = false;
        opted_out.status = ExecStatus::Succeeded;
        store.put_executions([&opted_out, &exec("e1", 2)]).unwrap();
        assert_eq!(
            store.succeeded_execution_with_hash(&task_hash(&opted_out.task)).unwrap(),
            None,
            "opted out of reuse"
        );
        assert_eq!(store.succeeded_execution_with_hash("").unwrap(), None);
        let indexed = |sql: &str| -> String {
            let mut plan = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            plan.query_map([], |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect::<Vec<_>>().join("; ")
        };
        let unfinished = indexed("SELECT body FROM dispatch_executions WHERE status IN ('waiting', 'running')");
        assert!(unfinished.contains("dispatch_executions_unfinished"), "{unfinished}");
        let reusable = indexed(
            "SELECT id FROM dispatch_executions WHERE task_hash = 'h' AND task_hash <> '' AND status = 'succeeded' ORDER BY created_ms DESC LIMIT 1",
        );
        assert!(reusable.contains("dispatch_executions_reusable"), "{reusable}");
    }

    #[test]
    fn executions_written_before_the_rowid_table_are_carried_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        {
            // A database at step 7, when dispatch_executions was a WITHOUT ROWID table.
            let conn = rusqlite::Connection::open(&path).unwrap();
            for step in &crate::migrations::MIGRATIONS[..7] {
                conn.execute_batch(step).unwrap();
            }
            conn.execute_batch("PRAGMA user_version = 7").unwrap();
            let e = exec("e1", 5);
            conn.execute(
                "INSERT INTO dispatch_executions (id, status, task_hash, created_ms, body) VALUES (?1, 'running', ?2, 5, ?3)",
                params![e.id, task_hash(&e.task), to_json(&e).unwrap()],
            )
            .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.load_executions(0).unwrap().iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["e1"]);
        let mut done = exec("e1", 5);
        done.status = ExecStatus::Succeeded;
        store.put_executions([&done]).unwrap();
        assert_eq!(store.load_executions(0).unwrap().len(), 0, "updated in place, not added");
        assert_eq!(store.succeeded_execution_with_hash(&task_hash(&done.task)).unwrap().as_deref(), Some("e1"));
    }
}
