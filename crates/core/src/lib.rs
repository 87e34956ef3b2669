//! Steward's domain model and pure engines.
//!
//! Nothing here reads a clock, touches a file or a socket, or spawns a task: time and inputs are
//! passed in, so everything is deterministic and testable without a machine.

pub mod accel;
pub mod alloc;
pub mod cluster;
pub mod credential;
pub mod dispatch;
pub mod history;
pub mod profile;
pub mod reading;
pub mod registration;
pub mod series;
pub mod snapshot;

pub use history::*;
pub use reading::Reading;
pub use snapshot::*;
