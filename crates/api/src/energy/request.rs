//! The envelope of `POST /resources/energy`, as `/resources/profile` has it: an optional `id`
//! echoed as `request_id`, the `operation`, and the answer with its `timestamp`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::monitor::EnergyMonitor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EnergyOperation {
    Monitor,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EnergyRequest {
    /// Echoed as `request_id`; generated when absent.
    #[serde(default)]
    #[ts(optional)]
    pub id: Option<String>,
    pub operation: EnergyOperation,
    /// Only this node (`local` or a node's id); every node when absent.
    #[serde(default)]
    #[ts(optional)]
    pub node: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EnergyResponse {
    pub request_id: String,
    pub timestamp: i64,
    pub operation: EnergyOperation,
    pub result: EnergyResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum EnergyResult {
    Monitor(EnergyMonitor),
}
