//! Distributed execution: `/resources/distributed` (the REST endpoint) and the `/api`
//! routes the executions view uses. One-line handlers over `Steward`.

use axum::Json;
use axum::extract::{Path, State};
use steward_api::{DistributedResponse, Steward};
use steward_core::dispatch::ExecutionSummary;

use super::json::JsonValue;
use crate::error::HttpError;

/// Any content type, as the endpoint's clients send; `Steward` checks every field.
pub async fn distributed(
    State(s): State<Steward>,
    JsonValue(value): JsonValue,
) -> Result<Json<DistributedResponse>, HttpError> {
    Ok(Json(s.distributed(value).await?))
}

pub async fn executions(State(s): State<Steward>) -> Result<Json<Vec<ExecutionSummary>>, HttpError> {
    Ok(Json(s.executions()?))
}

pub async fn execution(State(s): State<Steward>, Path(id): Path<String>) -> Result<Json<ExecutionSummary>, HttpError> {
    Ok(Json(s.execution(&id)?))
}

pub async fn output(State(s): State<Steward>, Path(id): Path<String>) -> Result<Json<Vec<String>>, HttpError> {
    Ok(Json(s.execution_output(&id)?))
}

pub async fn cancel(State(s): State<Steward>, Path(id): Path<String>) -> Result<Json<ExecutionSummary>, HttpError> {
    Ok(Json(s.cancel_execution(&id)?))
}
