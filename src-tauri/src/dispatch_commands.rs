//! Distributed execution commands: the same operations as `/resources/distributed` and
//! `/api/executions*`, one line each over `Steward`.

use steward_api::{DistributedResponse, ErrorBody, OutputChunk, Steward};
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

/// Up to `max` bytes of a partition's whole output from byte `offset` (the HTTP front door
/// streams the same at `/api/executions/{id}/partitions/{index}/output`).
#[tauri::command]
pub fn partition_output(
    steward: State<'_, Steward>,
    id: String,
    index: u32,
    offset: u64,
    max: u64,
) -> Result<OutputChunk, String> {
    steward.partition_output_chunk(&id, index, offset, max).map_err(|e| e.to_string())
}

#[tauri::command]
pub fn cancel_execution(steward: State<'_, Steward>, id: String) -> Answer<ExecutionSummary> {
    steward.cancel_execution(&id).map_err(ErrorBody::from)
}
