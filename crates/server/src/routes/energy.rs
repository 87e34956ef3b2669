//! Energy: `POST /resources/energy` (also `/api/energy`), one envelope for every operation.

use axum::Json;
use axum::extract::State;
use steward_api::{EnergyRequest, EnergyResponse, Steward};

use super::json::JsonBody;
use super::profile::blocking;
use crate::error::HttpError;

pub async fn energy(
    State(s): State<Steward>,
    JsonBody(req): JsonBody<EnergyRequest>,
) -> Result<Json<EnergyResponse>, HttpError> {
    Ok(Json(blocking(move || s.energy(req)).await?))
}
