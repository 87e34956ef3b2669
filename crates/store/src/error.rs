//! Everything that can go wrong in the store, phrased so a user knows what happened and what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the history database {path} is in use by another Steward process; \
         close the other instance (or point this one at a different data file) and try again"
    )]
    Locked { path: PathBuf },

    #[error(
        "cannot write the history database at {path}: {reason}; \
         check that the directory exists, is writable by this user and the disk is not full, \
         or choose another location"
    )]
    Unwritable { path: PathBuf, reason: String },

    #[error(
        "the file {path} is not a usable Steward database ({detail}); it was left untouched: \
         move it aside (or restore a backup) and start Steward again to create a fresh one"
    )]
    Corrupt { path: PathBuf, detail: String },

    #[error(
        "the database {path} was written by a newer Steward (schema version {found}, this build \
         understands up to {supported}); upgrade Steward or use a different data file"
    )]
    TooNew { path: PathBuf, found: i64, supported: i64 },

    #[error(
        "the key that seals agent tokens, {path}, is unusable ({detail}); restore it from a backup, or move \
         the database aside to start fresh (the nodes must then be added again)"
    )]
    SecretKey { path: PathBuf, detail: String },

    #[error("agent tokens: {0}")]
    Sealing(String),

    #[error("invalid history query: {0}")]
    InvalidQuery(String),

    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}
