//! What a device offers the power manager: each knob's current value and what it accepts.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::power::Knob;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct KnobState {
    pub knob: Knob,
    /// `None` where the device cannot report it (NVML has no query for locked clocks).
    pub current: Option<String>,
    /// Bounds of a numeric knob, in its unit.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The value a reset restores (the default power limit), where known.
    pub default: Option<String>,
    /// The words a word knob accepts (governors, preferences).
    pub choices: Vec<String>,
    pub unit: String,
}

/// One device on one node: `gpu0` or `policy2`, and its knobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeviceSettings {
    pub device: String,
    pub name: String,
    pub knobs: Vec<KnobState>,
}

impl DeviceSettings {
    pub fn knob(&self, knob: Knob) -> Option<&KnobState> {
        self.knobs.iter().find(|k| k.knob == knob)
    }
}
