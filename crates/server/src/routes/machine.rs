//! This machine: inventory, status, the latest sample and its history.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use steward_api::{HistoryQuery, Inventory, SeriesHistory, Status, Steward};

use super::json::{JsonBody, QueryParams};
use crate::error::HttpError;

pub async fn inventory(State(s): State<Steward>) -> Json<Inventory> {
    Json(s.inventory())
}

pub async fn status(State(s): State<Steward>) -> Json<Status> {
    Json(s.status())
}

pub async fn snapshot(State(s): State<Steward>) -> Response {
    match s.snapshot() {
        Some(snap) => Json(&*snap).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

pub async fn history(
    State(s): State<Steward>,
    JsonBody(query): JsonBody<HistoryQuery>,
) -> Result<Json<Vec<SeriesHistory>>, HttpError> {
    Ok(Json(s.history(query).await?))
}

#[derive(Deserialize)]
pub struct SeriesParams {
    #[serde(default)]
    prefix: String,
}

pub async fn series(
    State(s): State<Steward>,
    QueryParams(p): QueryParams<SeriesParams>,
) -> Result<Json<Vec<String>>, HttpError> {
    Ok(Json(s.series_names(p.prefix).await?))
}
