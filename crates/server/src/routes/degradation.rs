//! `POST /resources/degradation` (also `/api/degradation`): status, policies, overrides and the
//! timeline of graceful degradation. One-line handler over `Steward`.

use axum::Json;
use axum::extract::State;
use steward_api::{DegradationResponse, Steward};

use super::json::JsonValue;
use crate::error::HttpError;

pub async fn degradation(
    State(s): State<Steward>,
    JsonValue(value): JsonValue,
) -> Result<Json<DegradationResponse>, HttpError> {
    let result = tokio::task::spawn_blocking(move || s.degradation(value))
        .await
        .map_err(|e| HttpError::new(steward_api::ErrorKind::Internal, e.to_string()))?;
    Ok(Json(result?))
}
