//! Series name ↔ id mapping, cached in memory so ingest does no lookup queries.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::{Store, StoreError};

pub(crate) fn load(conn: &Connection) -> rusqlite::Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare("SELECT name, id FROM series")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The id of `name`, creating the series row if needed. Runs inside the caller's transaction.
pub(crate) fn id_or_create(conn: &Connection, cache: &mut HashMap<String, i64>, name: &str) -> rusqlite::Result<i64> {
    if let Some(&id) = cache.get(name) {
        return Ok(id);
    }
    let id =
        conn.prepare_cached("INSERT INTO series (name) VALUES (?1) RETURNING id")?.query_row([name], |r| r.get(0))?;
    cache.insert(name.to_owned(), id);
    Ok(id)
}

impl Store {
    /// Names of all known series starting with `prefix`, sorted.
    pub fn series_names(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = self.series_ids.keys().filter(|n| n.starts_with(prefix)).cloned().collect();
        names.sort_unstable();
        Ok(names)
    }

    /// The cached id of an existing series.
    pub(crate) fn series_id(&self, name: &str) -> Option<i64> {
        self.series_ids.get(name).copied()
    }

    /// After a rolled-back transaction the cache may hold ids that were never committed.
    pub(crate) fn reload_series_ids(&mut self) -> Result<(), StoreError> {
        self.series_ids = load(&self.conn)?;
        Ok(())
    }
}
