use serde::{Deserialize, Serialize};
use steward_telemetry::{Cost, Mode, interval_ms};
use ts_rs::TS;

/// How hard the sampler is working, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SamplingMode {
    /// Someone is looking: full rate.
    Active,
    /// A UI is connected but its window or tab is hidden.
    Hidden,
    /// Nobody is connected: history only, at the slowest rate that keeps it useful.
    Idle,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SamplingState {
    pub mode: SamplingMode,
    /// Interval of the cheap signals in this mode.
    pub interval_ms: u32,
    /// Why a degradation policy holds the sampler at the hidden rate while someone watches.
    pub lowered_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Status {
    pub version: String,
    /// This node's name (the hostname).
    pub node: String,
    pub db_path: String,
    pub started_ms: i64,
    pub sampling: SamplingState,
    pub samples_written: u64,
    /// The last error of a background loop, if it has not recovered since.
    pub last_error: Option<String>,
}

impl SamplingMode {
    pub(crate) fn telemetry_mode(self) -> Mode {
        match self {
            SamplingMode::Active => Mode::Active,
            SamplingMode::Hidden => Mode::Hidden,
            SamplingMode::Idle => Mode::Idle,
        }
    }
}

impl SamplingState {
    /// The state of `mode`: its cheap-signal interval comes from the sampler's policy.
    pub fn of(mode: SamplingMode) -> Self {
        SamplingState { mode, interval_ms: interval_ms(mode.telemetry_mode(), Cost::Cheap) as u32, lowered_by: None }
    }
}
