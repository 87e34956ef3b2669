//! steward-store
