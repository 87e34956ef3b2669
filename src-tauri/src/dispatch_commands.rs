//! Distributed execution commands: the same operations as `/resources/distributed` and
//! `/api/executions*`, one line each over `Steward`.

use steward_api::{DistributedResponse, OutputChunk, Steward};
use steward_core::dispatch::ExecutionSummary;
use tauri::State;

/// `request` is the body of `POST /resources/distributed` (`operation` distribute | monitor).
#[tauri::command]
pub async fn distributed(
    steward: State<'_, Steward>,
    request: serde_json::Value,
) -> Result<DistributedResponse, String> {
    steward.distributed(request).await.map_err(|e| e.to_string())
}

#[tauri::command]
pub fn executions(steward: State<'_, Steward>) -> Result<Vec<ExecutionSummary>, String> {
    steward.executions().map_err(|e| e.to_string())
}

#[tauri::command]
pub fn execution(steward: State<'_, Steward>, id: String) -> Result<ExecutionSummary, String> {
    steward.execution(&id).map_err(|e| e.to_string())
}

#[tauri::command]
pub fn execution_output(steward: State<'_, Steward>, id: String) -> Result<Vec<String>, String> {
    steward.execution_output(&id).map_err(|e| e.to_string())
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
pub fn cancel_execution(steward: State<'_, Steward>, id: String) -> Result<ExecutionSummary, String> {
    steward.cancel_execution(&id).map_err(|e| e.to_string())
}
