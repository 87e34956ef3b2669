//! steward-telemetry
