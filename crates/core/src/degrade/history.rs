//! What the engine did and why, as the timeline shows it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::commanded::DegradeChange;
use super::constraint::Constraint;
use super::overrides::ModuleOverride;
use crate::TimestampMs;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DegradationEvent {
    #[ts(type = "number")]
    pub ts_ms: TimestampMs,
    pub detail: EventDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum EventDetail {
    ConstraintStarted {
        constraint: Constraint,
    },
    /// The tier of a constraint in force moved.
    ConstraintChanged {
        constraint: Constraint,
    },
    ConstraintEnded {
        key: String,
        summary: String,
    },
    /// A policy fired and its steps were taken.
    Applied {
        policy: String,
        reason: String,
        changes: Vec<DegradeChange>,
    },
    /// What a policy had taken was given back.
    Restored {
        policy: String,
        reason: String,
        changes: Vec<DegradeChange>,
    },
    OverrideSet {
        over: ModuleOverride,
    },
    OverrideReleased {
        module: String,
        by: String,
    },
    /// A step that could not be taken, and why (e.g. it would touch a critical module).
    Refused {
        policy: String,
        reason: String,
    },
}
