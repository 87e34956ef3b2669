//! `/resources/energy`: the power planner and manager (`plan`, `apply`, `rollback`, `journal`).
//! One-line handler over `Steward`.

use axum::Json;
use axum::extract::State;
use steward_api::{EnergyResponse, Steward};

use super::json::JsonValue;
use crate::error::HttpError;

/// Any content type, as the endpoint's clients send; `Steward` checks every field.
pub async fn energy(State(s): State<Steward>, JsonValue(value): JsonValue) -> Result<Json<EnergyResponse>, HttpError> {
    Ok(Json(s.energy(value).await?))
}
