//! steward-prometheus: Steward's metrics for Prometheus, in the Prometheus text format (0.0.4)
//! and OpenMetrics, encoded by the `prometheus-client` crate.
//!
//! A scrape builds an [`Exposition`] from what the process already holds (the latest snapshot,
//! counters): nothing here samples or keeps state. Names follow Prometheus' conventions (base
//! units, `_total` on counters, the unit as the name's suffix) and node_exporter's names where a
//! metric means the same (`steward_node_load1`, `steward_node_network_receive_bytes_total`).
//! A reading that is unavailable has no sample at all: Prometheus must not see a 0 that was
//! never measured.

pub mod catalog;
mod exposition;
mod format;
mod node;
#[cfg(feature = "promtool")]
pub mod promtool;
mod sampler_cost;

pub use catalog::{Kind, Metric};
pub use exposition::{Exposition, Labels};
pub use format::MetricsFormat;
pub use node::node_metrics;
pub use sampler_cost::sampler_cost_metrics;
