//! Distributed execution commands: the same operations as `/resources/distributed` and
//! `/api/executions*`, one line each over `Steward`.

use steward_api::{DistributedResponse, ErrorBody, Steward};
use steward_core::dispatch::ExecutionSummary;
use tauri::State;

use crate::answer::Answer;

/// `request` is the body of `POST /resources/distributed` (`operation` distribute | monitor).
#[tauri::command]
pub async fn distributed(steward: State<'_, Steward>, request: serde_json::Value) -> Answer<DistributedResponse> {
    steward.distributed(request).await.map_err(ErrorBody::from)
}

#[tauri::command]
pub fn executions(steward: State<'_, Steward>) -> Answer<Vec<ExecutionSummary>> {
    steward.executions().map_err(ErrorBody::from)
}

#[tauri::command]
pub fn execution(steward: State<'_, Steward>, id: String) -> Answer<ExecutionSummary> {
    steward.execution(&id).map_err(ErrorBody::from)
}

#[tauri::command]
pub fn execution_output(steward: State<'_, Steward>, id: String) -> Answer<Vec<String>> {
    steward.execution_output(&id).map_err(ErrorBody::from)
}

#[tauri::command]
pub fn cancel_execution(steward: State<'_, Steward>, id: String) -> Answer<ExecutionSummary> {
    steward.cancel_execution(&id).map_err(ErrorBody::from)
}
