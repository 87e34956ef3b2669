//! steward-agent: `stewardd`, the node agent, and [`AgentClient`], the control center's way to
//! dial it.
//!
//! The agent serves the node protocol of `steward-proto`: its inventory, a metrics stream that
//! doubles as heartbeat, and a task runner (process tasks with limits, GPU visibility, timeout
//! and a checkpoint directory; a no-op kind for measuring dispatch). Every call needs the node's
//! token; TLS with a self-signed certificate, pinned by fingerprint, is required off loopback.
//! Modules on the node register with it through the module API (`module_api`), on its port and
//! on a Unix socket in its state directory, and it forwards them to the control center.

pub mod auth;
pub mod client;
pub mod ending;
mod error;
pub mod limits;
mod metrics;
pub mod metrics_endpoint;
pub mod module_api;
mod power;
mod runner;
pub mod server;
mod service;
mod spawner;
pub mod tasks;
pub mod tls;

pub use client::{AgentClient, AgentInventory, decode_snapshot};
pub use error::AgentError;
pub use metrics_endpoint::MetricsListen;
pub use server::{AgentConfig, Bound, bind};
/// The node protocol's generated types, under the name callers know them by.
pub mod proto {
    pub use steward_proto::agent::*;
}
