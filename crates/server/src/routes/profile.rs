//! Profiling: the report (`POST /resources/profile`, also `/api/profile`), modules and events.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use steward_api::{ErrorKind, Steward};
use steward_core::profile::deep::{DeepProfile, DeepProfileRequest};
use steward_core::profile::module::ModuleSpec;
use steward_core::profile::{ProfileEvent, ProfileRequest, ProfileResponse, Thresholds};

use super::json::{JsonBody, QueryParams};
use crate::error::HttpError;

/// Runs a blocking `Steward` call (SQLite, model fitting) off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, steward_api::ApiError> + Send + 'static,
) -> Result<T, HttpError> {
    let result =
        tokio::task::spawn_blocking(f).await.map_err(|e| HttpError::new(ErrorKind::Internal, e.to_string()))?;
    Ok(result?)
}

pub async fn profile(
    State(s): State<Steward>,
    JsonBody(req): JsonBody<ProfileRequest>,
) -> Result<Json<ProfileResponse>, HttpError> {
    Ok(Json(blocking(move || s.profile(req)).await?))
}

pub async fn modules(State(s): State<Steward>) -> Json<Vec<ModuleSpec>> {
    Json(s.modules())
}

pub async fn put_module(
    State(s): State<Steward>,
    JsonBody(spec): JsonBody<ModuleSpec>,
) -> Result<Json<ModuleSpec>, HttpError> {
    Ok(Json(blocking(move || s.put_module(spec)).await?))
}

pub async fn delete_module(State(s): State<Steward>, Path(name): Path<String>) -> Result<StatusCode, HttpError> {
    blocking(move || s.delete_module(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct EventsParams {
    #[serde(default)]
    since_ms: i64,
}

pub async fn events(
    State(s): State<Steward>,
    QueryParams(p): QueryParams<EventsParams>,
) -> Result<Json<Vec<ProfileEvent>>, HttpError> {
    Ok(Json(blocking(move || s.profile_events(p.since_ms)).await?))
}

pub async fn thresholds(State(s): State<Steward>) -> Json<Thresholds> {
    Json(s.thresholds())
}

/// Starts a time-limited deep profile of one module (202: it runs on; GET follows it).
pub async fn start_deep_profile(
    State(s): State<Steward>,
    Path(name): Path<String>,
    JsonBody(req): JsonBody<DeepProfileRequest>,
) -> Result<(StatusCode, Json<DeepProfile>), HttpError> {
    Ok((StatusCode::ACCEPTED, Json(s.start_deep_profile(&name, req)?)))
}

/// The module's latest deep profile, or `null` when none was started.
pub async fn deep_profile(
    State(s): State<Steward>,
    Path(name): Path<String>,
) -> Result<Json<Option<DeepProfile>>, HttpError> {
    Ok(Json(s.deep_profile(&name)?))
}
