//! The power manager's and the planner's pure side: what a power setting is (`setting`), how
//! changes are journaled (`journal`), the power–throughput curve measured by profiling (`curve`),
//! which limits to profile (`profiling`), the choice per device (`planner`) and the measured
//! outcome of an applied plan (`outcome`). The I/O (NVML, cpufreq sysfs, agents, SQLite) lives
//! in the telemetry, agent, store and api crates.

pub mod curve;
pub mod device;
pub mod journal;
pub mod outcome;
pub mod plan;
pub mod planner;
pub mod profiling;
pub mod setting;

pub use curve::{ProfilePoint, at_limit};
pub use device::{DeviceSettings, KnobState};
pub use journal::{ChangeState, JournalEntry};
pub use outcome::{Measurement, Outcome};
pub use plan::{DevicePlan, PlanState, PowerPlan, Skipped};
pub use planner::{Choice, Objective, choose};
pub use setting::{Knob, PowerChange};
