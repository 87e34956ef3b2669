//! Energy: what every node draws, where the number comes from, and what it costs.
//!
//! Every figure carries its [`Provenance`]: `measured` (a meter: RAPL, NVML, hwmon, the
//! battery), `attributed` (a share of a measured value) or `modelled` (an estimate from
//! utilization and a stated TDP). A source with neither a meter nor model data is
//! `Reading::Unavailable` with the reason — never 0 W.
//!
//! - [`meter`]: one node's sources from its snapshot, integrated into cumulative joules.
//! - [`model`]: the CPU power model (idle + (max − idle) × utilization) and its TDP table.
//! - [`intervals`]: per-interval joules for history from the cumulative counters.
//! - [`attribution`]: processes' share of CPU and GPU power.
//! - [`drain`]: idle nodes worth powering down, biggest saving first, keeping a floor up.
//! - [`schedule`]: tariff and carbon intensity, constant or per hour of day.
//! - [`window`]: the cheapest or cleanest start for a deferrable run before its deadline.
//! - [`efficiency`]: idle share, power–utilization curves, the 30-minute energy forecast.

pub mod attribution;
pub mod drain;
pub mod efficiency;
pub mod intervals;
pub mod meter;
pub mod model;
pub mod schedule;
mod source;
pub mod window;

pub use source::{EnergySource, NodeEnergy, PowerSensor, PowerSensorKind, Provenance, SourceKind, counted_in_total};
