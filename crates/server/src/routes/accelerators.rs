//! `POST /resources/accelerators`: list, register, characterize, place, analyze, map and
//! advise (issue 16). One-line handler.

use axum::Json;
use axum::extract::State;
use steward_api::{AcceleratorsResponse, Steward};

use super::json::JsonValue;
use crate::error::HttpError;

/// Any content type, as the endpoint's clients send; `Steward` checks every field.
pub async fn accelerators(
    State(s): State<Steward>,
    JsonValue(value): JsonValue,
) -> Result<Json<AcceleratorsResponse>, HttpError> {
    Ok(Json(s.accelerators(value).await?))
}
