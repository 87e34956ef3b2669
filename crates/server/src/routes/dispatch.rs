//! Distributed execution: `/resources/distributed` (the REST endpoint) and the `/api`
//! routes the executions view uses. One-line handlers over `Steward`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use steward_api::{AllocError, DistributedResponse, Steward};
use steward_core::alloc::FieldError;
use steward_core::dispatch::ExecutionSummary;

use super::allocation::AllocHttpError;
use crate::error::HttpError;

/// The body is taken as bytes so malformed JSON is a 400 with our message, not axum's 422.
pub async fn distributed(State(s): State<Steward>, body: Bytes) -> Result<Json<DistributedResponse>, AllocHttpError> {
    let value = serde_json::from_slice(&body)
        .map_err(|e| AllocError::Invalid(vec![FieldError::new("", format!("malformed JSON: {e}"))]))?;
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
