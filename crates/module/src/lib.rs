//! steward-module: the client side of Steward's module API (`module.proto`).
//!
//! A long-running service registers with the Steward of its node — the control center's
//! module socket, or `stewardd`'s — reports its usage every interval, and follows the
//! directives Steward sends (lower quality, disable a feature, pause), acknowledging each.
//!
//! - [`ModuleClient`]: one call per RPC, for callers that manage the connection themselves.
//! - [`start`]: a [`Connection`] kept up in the background — reconnects with backoff,
//!   registers again, sends the latest report every interval, delivers each directive once
//!   and re-sends acks that could not be delivered.
//!
//! ```no_run
//! # async fn demo(registration: steward_core::registration::Registration) {
//! use steward_module::{Target, start};
//! let target = Target::Unix("/home/me/.local/share/steward/modules.sock".into());
//! let (conn, mut directives) = start(target, "the-token".into(), registration);
//! while let Some(order) = directives.recv().await {
//!     // apply order.directive, then:
//!     conn.ack(order.id, steward_core::registration::Ack::Applied);
//! }
//! # }
//! ```

mod client;
mod connection;
mod error;
mod target;

pub use client::{Directives, ModuleClient};
pub use connection::{Connection, start};
pub use error::ModuleError;
pub use steward_core::registration::{
    Ack, Criticality, Directive, DirectiveOrder, Feature, QualityLevel, Registration, UsageReport,
};
pub use target::Target;
