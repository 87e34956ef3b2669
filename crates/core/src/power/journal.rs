//! The power journal's rows: every change is written (device, setting, previous, new, who, why,
//! when) before it is made, then moves through its states.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::power::Knob;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChangeState {
    /// Written, not yet made: a crash here leaves a row whose effect is unknown (restored anyway).
    Pending,
    /// Made, and in effect.
    Applied,
    /// Not made: no permission. `detail` says what it would have done and why it could not.
    Denied,
    /// Not made: the device refused it. `detail` says why.
    Failed,
    /// Undone by a rollback.
    RolledBack,
    /// Undone at start because its lease ended with the control center that made it.
    Restored,
}

impl ChangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeState::Pending => "pending",
            ChangeState::Applied => "applied",
            ChangeState::Denied => "denied",
            ChangeState::Failed => "failed",
            ChangeState::RolledBack => "rolled_back",
            ChangeState::Restored => "restored",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeState> {
        [
            ChangeState::Pending,
            ChangeState::Applied,
            ChangeState::Denied,
            ChangeState::Failed,
            ChangeState::RolledBack,
            ChangeState::Restored,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Still (possibly) in effect on the device: a rollback or a restore has work to do.
    pub fn in_effect(self) -> bool {
        matches!(self, ChangeState::Pending | ChangeState::Applied)
    }
}

/// One journaled change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct JournalEntry {
    pub id: i64,
    /// The plan it belongs to; `None` for a single change.
    pub plan_id: Option<String>,
    pub node: String,
    pub device: String,
    pub knob: Knob,
    /// The value read before the change; `None` where the device cannot report it.
    pub previous: Option<String>,
    pub new: String,
    pub who: String,
    pub why: String,
    pub at_ms: i64,
    pub state: ChangeState,
    /// Why it was denied or failed, or how it was undone.
    pub detail: Option<String>,
    /// Leased changes are undone when the control center that made them is gone.
    pub leased: bool,
    /// When it was rolled back or restored.
    pub ended_ms: Option<i64>,
}
