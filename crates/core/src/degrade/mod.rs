//! Graceful degradation, pure: constraints are detected from measurements (`detect`), policies
//! say which steps each constraint and tier calls for (`policy`), and the `engine` turns both
//! into directives for registered modules — shedding the least important first and restoring in
//! reverse, one step per check. Time is passed in; nothing here sends anything.
//!
//! The steps in force are kept as a stack of groups (`engine::DegradeGroup`): what one check applied
//! together is restored together, the latest first, so recovery can never reorder shedding.
//! What a module is told is the difference between its commanded state before and after a check
//! (`commanded`), so overrides, restores and new steps all produce the same directives.

pub mod commanded;
pub mod constraint;
pub mod detect;
pub mod engine;
pub mod history;
pub mod ladder;
pub mod overrides;
pub mod policy;
pub mod setpoint;

pub use commanded::{Commanded, DegradeChange, ModuleView};
pub use constraint::{Constraint, ConstraintKind};
pub use detect::{DetectConfig, Detector, Observation};
pub use engine::{AllocationHold, Check, DegradeGroup, Engine, Inputs, ModuleOrder};
pub use history::{DegradationEvent, EventDetail};
pub use overrides::ModuleOverride;
pub use policy::{DegradationPolicy, PolicyError, PolicyStep, PolicyTrigger, StepAction, StepTarget};
