//! Datasets registered with the nodes that hold them: `/api/datasets` (list) and
//! `/api/datasets/{name}` (PUT registers or replaces, DELETE forgets). One-line handlers.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use steward_api::Steward;
use steward_core::dispatch::Dataset;

use super::json::JsonBody;
use super::profile::blocking;
use crate::error::HttpError;

/// The body of `PUT /api/datasets/{name}`; the name is the path's.
#[derive(Deserialize)]
pub struct DatasetBody {
    bytes: u64,
    nodes: Vec<String>,
}

pub async fn list(State(s): State<Steward>) -> Result<Json<Vec<Dataset>>, HttpError> {
    Ok(Json(s.datasets()?))
}

pub async fn put(
    State(s): State<Steward>,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<DatasetBody>,
) -> Result<Json<Dataset>, HttpError> {
    Ok(Json(blocking(move || s.register_dataset(Dataset { name, bytes: b.bytes, nodes: b.nodes })).await?))
}

pub async fn remove(State(s): State<Steward>, Path(name): Path<String>) -> Result<StatusCode, HttpError> {
    blocking(move || s.remove_dataset(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}
