//! steward-store: Steward's persistence, and the only crate that writes SQL.
//!
//! One [`Store`] owns one SQLite file (WAL mode) for the lifetime of the process; an exclusive
//! lock file next to it keeps a second Steward away. Time series are kept at three resolutions
//! (raw samples, 1-minute and 1-hour rollups) that [`Store::maintain`] fills and prunes, and
//! [`Store::query`] reads from whichever resolution fits the requested chart ([`Store::minute_means`]
//! reads the 1-minute table as it is, for forecasts).
//!
//! Nothing here reads a clock: "now" is always passed in.

mod accelerators;
mod allocations;
mod backend_events;
mod datasets;
mod degradation;
mod error;
mod executions;
mod ingest;
mod instance;
mod maintenance;
mod migrations;
mod minute_means;
mod nodes;
mod open;
mod power_journal;
pub mod private_file;
mod profile;
mod query;
mod registered_modules;
pub mod secrets;
mod series_ids;
mod tiers;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

pub use allocations::{AllocationState, RequestAnswer, StoredAnswer};
pub use degradation::DegradationState;
pub use error::StoreError;
pub use maintenance::{MaintenanceReport, RetentionPolicy};
pub use migrations::SCHEMA_VERSION;
pub use power_journal::NewChange;
pub use query::{MAX_POINTS_LIMIT, SeriesSums};
pub use tiers::{HOUR_MS, MINUTE_MS, RAW_RESOLUTION_MS};

/// An open Steward database.
pub struct Store {
    // Field order matters: the connection must close before the lock is released.
    conn: rusqlite::Connection,
    /// Series name → row id; the store is the only writer, so the cache cannot go stale.
    series_ids: HashMap<String, i64>,
    /// Exclusive rollup watermarks (`[.., done_until)` has been rolled up), cached for queries.
    watermarks: tiers::Watermarks,
    /// Seals agent tokens at rest.
    secrets: secrets::SecretBox,
    path: PathBuf,
    _lock: File,
}

impl Store {
    /// The file this store was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Where Steward keeps its database unless told otherwise: `<platform data dir>/steward/steward.db`
/// (e.g. `~/.local/share/steward/steward.db` on Linux).
pub fn default_path() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("steward").join("steward.db")
}
