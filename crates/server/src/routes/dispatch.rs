//! Distributed execution: `/resources/distributed` (the REST endpoint) and the `/api`
//! routes the executions view uses. One-line handlers over `Steward`.

use std::io::Read;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
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

/// A partition's whole output, streamed as the task wrote it (past its output limits, from the
/// spill file; bytes that are not UTF-8 as they are).
pub async fn partition_output(
    State(s): State<Steward>,
    Path((id, index)): Path<(String, u32)>,
) -> Result<Response, HttpError> {
    let mut reader = s.partition_output(&id, index)?.open_at(0)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut chunk = vec![0; 64 << 10];
            let sent = match reader.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => {
                    chunk.truncate(n);
                    tx.blocking_send(Ok(chunk))
                }
                Err(e) => tx.blocking_send(Err(e)),
            };
            if sent.is_err() {
                return; // the caller hung up
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response())
}

pub async fn cancel(State(s): State<Steward>, Path(id): Path<String>) -> Result<Json<ExecutionSummary>, HttpError> {
    Ok(Json(s.cancel_execution(&id)?))
}
