//! Profiling: what limits this machine (or a module) now, what usage will be, and what to do.
//!
//! Everything here is pure: sample windows, history and time come in as arguments. The api crate
//! feeds it the snapshots the sampler already collects, so profiling costs no extra sampling.

pub mod advisor;
pub mod config;
pub mod consolidation;
pub mod deep;
pub mod finding;
pub mod forecast;
pub mod hysteresis;
pub mod module;
pub mod report;
pub mod rules;
pub mod sampling_advice;
pub mod thresholds;
pub mod traces;
pub mod window;

pub use config::ProfileConfig;
pub use finding::*;
pub use forecast::{Accuracy, Forecast, ForecastPoint, SeriesForecast};
pub use hysteresis::Tracker;
pub use module::{ModuleSpec, ModuleUsage};
pub use report::*;
pub use thresholds::Thresholds;
