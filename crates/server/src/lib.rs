//! steward-server
