//! Schema migrations keyed on `PRAGMA user_version`.
//!
//! To change the schema, append one SQL string to [`MIGRATIONS`]; never edit a released step.
//! Step `i` (0-based) brings the database from version `i` to `i + 1`.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

pub(crate) const MIGRATIONS: &[&str] = &[
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
    // 2: allocations, reservations, their event log and idempotent request answers. Records are
    // JSON documents of steward-core's types; the columns beside them are what queries filter on.
    "CREATE TABLE alloc_allocations (
         id    TEXT PRIMARY KEY,
         state TEXT NOT NULL,
         body  TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE alloc_reservations (
         id   TEXT PRIMARY KEY,
         body TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE alloc_events (
         id      INTEGER PRIMARY KEY,
         time_ms INTEGER NOT NULL,
         kind    TEXT NOT NULL,
         subject TEXT NOT NULL,
         body    TEXT NOT NULL
     );
     CREATE INDEX alloc_events_by_kind ON alloc_events (kind, id);
     CREATE TABLE alloc_requests (
         request_id TEXT PRIMARY KEY,
         time_ms    INTEGER NOT NULL,
         response   TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 3: profiling — modules (named workloads and how their processes are matched) and the
    // start/end events of bottleneck findings.
    "CREATE TABLE modules (
         name       TEXT PRIMARY KEY,
         created_ms INTEGER NOT NULL
     );
     CREATE TABLE module_matchers (
         module   TEXT    NOT NULL,
         position INTEGER NOT NULL,
         kind     TEXT    NOT NULL, -- cgroup | executable | command | user | pids
         value    TEXT    NOT NULL, -- pids: comma-separated
         PRIMARY KEY (module, position)
     ) WITHOUT ROWID;
     CREATE TABLE profile_events (
         id       INTEGER PRIMARY KEY,
         ts_ms    INTEGER NOT NULL,
         kind     TEXT    NOT NULL,
         key      TEXT    NOT NULL,
         resource TEXT    NOT NULL,
         severity TEXT    NOT NULL,
         summary  TEXT    NOT NULL
     );
     CREATE INDEX profile_events_ts ON profile_events (ts_ms);",
    // 4: distributed executions: one JSON document of steward-core's `Execution` each; the
    // columns are what restarts (unfinished ones) and computation reuse (hash) look up.
    "CREATE TABLE dispatch_executions (
         id         TEXT PRIMARY KEY,
         status     TEXT    NOT NULL,
         task_hash  TEXT    NOT NULL,
         created_ms INTEGER NOT NULL,
         body       TEXT    NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX dispatch_executions_status ON dispatch_executions (status, created_ms);
     CREATE INDEX dispatch_executions_hash ON dispatch_executions (task_hash, status);",
    // 5: cluster nodes the user added: how to dial each again (the token is a credential for
    // that one agent, kept like an SSH key beside its pinned certificate fingerprint).
    "CREATE TABLE cluster_nodes (
         address     TEXT PRIMARY KEY,
         token       TEXT    NOT NULL,
         fingerprint TEXT,
         draining    INTEGER NOT NULL DEFAULT 0,
         added_ms    INTEGER NOT NULL
     ) WITHOUT ROWID;",
    // 6: what a decision changes in an allocation, apart from the document written once at
    // admission (alloc_allocations.body, whose request never changes). Since step 7 decisions
    // are appended to alloc_log and folded into this table. A record without a row here nor in
    // the log is its document alone.
    "CREATE TABLE alloc_live (
         id           TEXT PRIMARY KEY,
         state        TEXT    NOT NULL,
         reason       TEXT,
         node         TEXT,
         gpus         TEXT    NOT NULL, -- JSON array of GPU ids
         cores        INTEGER NOT NULL,
         memory_bytes INTEGER NOT NULL,
         start_ms     INTEGER,
         end_ms       INTEGER,
         preemption   TEXT,             -- JSON PendingPreemption
         preemptions  INTEGER NOT NULL
     ) WITHOUT ROWID;",
    // 7: decisions appended to a log (the alloc_live columns, newest last) instead of updated
    // in place: a pass touches rows all over alloc_live, so every commit rewrote most of its
    // pages; appends write only the new rows. The log is folded into alloc_live from time to
    // time. A record is its document, then its alloc_live row, then its log rows in order.
    "CREATE TABLE alloc_log (
         seq          INTEGER PRIMARY KEY,
         id           TEXT    NOT NULL,
         state        TEXT    NOT NULL,
         reason       TEXT,
         node         TEXT,
         gpus         TEXT    NOT NULL,
         cores        INTEGER NOT NULL,
         memory_bytes INTEGER NOT NULL,
         start_ms     INTEGER,
         end_ms       INTEGER,
         preemption   TEXT,
         preemptions  INTEGER NOT NULL
     );",
    // 8: dispatch_executions as a rowid table. An execution's document (~1 KB) is over what a
    // WITHOUT ROWID row keeps in its page, so each write spilled into an overflow page of its
    // own (a 4 KB page per write, freed and reallocated on every rewrite); a rowid table keeps
    // rows up to ~4 KB in its leaves, appended in creation order and updated in place.
    "CREATE TABLE dispatch_executions_v8 (
         id         TEXT PRIMARY KEY,
         status     TEXT    NOT NULL,
         task_hash  TEXT    NOT NULL,
         created_ms INTEGER NOT NULL,
         body       TEXT    NOT NULL
     );
     INSERT INTO dispatch_executions_v8 (id, status, task_hash, created_ms, body)
         SELECT id, status, task_hash, created_ms, body FROM dispatch_executions ORDER BY created_ms, id;
     DROP TABLE dispatch_executions;
     ALTER TABLE dispatch_executions_v8 RENAME TO dispatch_executions;
     CREATE INDEX dispatch_executions_status ON dispatch_executions (status, created_ms);
     CREATE INDEX dispatch_executions_hash ON dispatch_executions (task_hash, status);",
    // 9: datasets the user registered with the nodes that hold a copy (the balancer prefers
    // those nodes for tasks that read the dataset).
    "CREATE TABLE datasets (
         name          TEXT PRIMARY KEY,
         bytes         INTEGER NOT NULL,
         registered_ms INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE dataset_nodes (
         dataset  TEXT    NOT NULL,
         position INTEGER NOT NULL,
         node     TEXT    NOT NULL,
         PRIMARY KEY (dataset, position)
     ) WITHOUT ROWID;",
    // 10: the indexes an execution's writes touch, cut to the queries' needs. Every index is a
    // page per write (and two when a row moves within it): the status index moved each
    // finished execution from the running to the finished part, and the hash index, at a
    // random page, held tasks that opted out of reuse. Now only unfinished executions are
    // indexed by status (the newest finished ones are read by rowid, which follows creation)
    // and only succeeded reusable ones by hash.
    "DROP INDEX dispatch_executions_status;
     DROP INDEX dispatch_executions_hash;
     CREATE INDEX dispatch_executions_unfinished ON dispatch_executions (created_ms) WHERE status IN ('waiting', 'running');
     CREATE INDEX dispatch_executions_reusable ON dispatch_executions (task_hash, created_ms) WHERE status = 'succeeded' AND task_hash <> '';",
    // 11: who this control center is to its agents, for as long as its database lives: tasks
    // it starts carry the id, so after a crash it can tell its own orphans from another's tasks.
    "CREATE TABLE instance (id TEXT NOT NULL);
     INSERT INTO instance (id) VALUES (lower(hex(randomblob(16))));",
    // 12: the id each agent generated on its first start: the same agent added under another
    // address (127.0.0.1:P and localhost:P) is one node, refused a second time. Tokens in this
    // table are sealed since this version (done in Rust at open: `nodes::seal_plain_tokens`).
    "ALTER TABLE cluster_nodes ADD COLUMN node_id TEXT;",
    // 13: each answered request kept with the request it answered, so a reused id with another
    // body is told apart from a retry (NULL for answers stored before).
    "ALTER TABLE alloc_requests ADD COLUMN request TEXT;",
    // 14: modules that registered through the module API (per node), with their latest report,
    // and the directives sent to them with the modules' answers: a restart keeps who was there.
    "CREATE TABLE registered_modules (
         node TEXT NOT NULL, name TEXT NOT NULL, registration TEXT NOT NULL, state TEXT NOT NULL,
         lost_reason TEXT, registered_ms INTEGER NOT NULL, last_report_ms INTEGER, report TEXT,
         PRIMARY KEY (node, name));
     CREATE TABLE module_directives (
         node TEXT NOT NULL, name TEXT NOT NULL, id INTEGER NOT NULL, sent_ms INTEGER NOT NULL,
         directive TEXT NOT NULL, ack TEXT, acked_ms INTEGER,
         PRIMARY KEY (node, name, id));",
    // 15: degradation: policies set through the API and overrides (kind `policy` | `override`,
    // by name), the groups of steps in force, and the timeline of constraints and steps.
    "CREATE TABLE degradation_settings (
         kind TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, name));
     CREATE TABLE degradation_events (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, json TEXT NOT NULL);",
    // 16: the power manager's journal (every change written before it is made) and its plans.
    "CREATE TABLE power_changes (
         id          INTEGER PRIMARY KEY,
         plan_id     TEXT,
         node        TEXT    NOT NULL,
         device      TEXT    NOT NULL,
         knob        TEXT    NOT NULL,
         previous    TEXT,
         new         TEXT    NOT NULL,
         who         TEXT    NOT NULL,
         why         TEXT    NOT NULL,
         at_ms       INTEGER NOT NULL,
         state       TEXT    NOT NULL,
         detail      TEXT,
         leased      INTEGER NOT NULL,
         ended_ms    INTEGER
     );
     CREATE INDEX power_changes_plan ON power_changes (plan_id);
     CREATE INDEX power_changes_state ON power_changes (state);
     CREATE TABLE power_plans (
         id         TEXT PRIMARY KEY,
         created_ms INTEGER NOT NULL,
         plan       TEXT    NOT NULL
     );",
    // 17: accelerators registered through the API (a spec as JSON per node and id), and the
    // latest characterization of each adapter of each node (refreshed on demand).
    "CREATE TABLE accelerators (
         node TEXT NOT NULL, id TEXT NOT NULL, spec TEXT NOT NULL, registered_ms INTEGER NOT NULL,
         PRIMARY KEY (node, id));
     CREATE TABLE accel_characterizations (
         node TEXT NOT NULL, adapter TEXT NOT NULL, measured_ms INTEGER NOT NULL, result TEXT NOT NULL,
         PRIMARY KEY (node, adapter));",
    // 18: backend events: what an external engine (Slurm) reported, kept across restarts.
    "CREATE TABLE backend_events (
         id      INTEGER PRIMARY KEY,
         time_ms INTEGER NOT NULL,
         kind    TEXT NOT NULL,
         body    TEXT NOT NULL
     );
     CREATE INDEX backend_events_by_kind ON backend_events (kind, id);",
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
        return Err(StoreError::TooNew { path: path.to_owned(), found: current, supported: SCHEMA_VERSION });
    }
    Ok(current)
}
