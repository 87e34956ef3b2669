//! Schema migrations keyed on `PRAGMA user_version`.
//!
//! To change the schema, append one SQL string to [`MIGRATIONS`]; never edit a released step.
//! Step `i` (0-based) brings the database from version `i` to `i + 1`.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: time series at three resolutions, plus rollup watermarks.
    "CREATE TABLE series (
         id   INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE
     );
     CREATE TABLE samples_raw (
         series_id INTEGER NOT NULL,
         ts_ms     INTEGER NOT NULL,
         value     REAL    NOT NULL,
         PRIMARY KEY (series_id, ts_ms)
     ) WITHOUT ROWID;
     CREATE TABLE samples_1m (
         series_id INTEGER NOT NULL,
         ts_ms     INTEGER NOT NULL, -- bucket start
         min       REAL    NOT NULL,
         max       REAL    NOT NULL,
         sum       REAL    NOT NULL,
         count     INTEGER NOT NULL,
         PRIMARY KEY (series_id, ts_ms)
     ) WITHOUT ROWID;
     CREATE TABLE samples_1h (
         series_id INTEGER NOT NULL,
         ts_ms     INTEGER NOT NULL,
         min       REAL    NOT NULL,
         max       REAL    NOT NULL,
         sum       REAL    NOT NULL,
         count     INTEGER NOT NULL,
         PRIMARY KEY (series_id, ts_ms)
     ) WITHOUT ROWID;
     -- Per rollup target: every source row with ts_ms < done_until_ms has been rolled up.
     CREATE TABLE rollup_watermark (
         tier          TEXT PRIMARY KEY,
         done_until_ms INTEGER NOT NULL
     );",
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`] in one immediate transaction, or refuses a
/// database from a newer Steward without touching it.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    // IMMEDIATE takes the write lock up front: a concurrent writer shows up here as SQLITE_BUSY.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = refuse_newer(&tx, path)?;
    for step in &MIGRATIONS[current as usize..] {
        tx.execute_batch(step)?;
    }
    if current < SCHEMA_VERSION {
        // PRAGMA takes no bound parameters; the value is our own constant.
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
    }
    tx.commit()?;
    Ok(())
}

/// The database's schema version, or [`StoreError::TooNew`] if this build cannot read it.
pub(crate) fn refuse_newer(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(current)
}
