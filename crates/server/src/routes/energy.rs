//! Energy: `POST /resources/energy` (also `/api/energy`), one envelope for every operation.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
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

/// The exported report, `GET /api/energy/report.svg`.
pub async fn report(State(s): State<Steward>) -> Result<Response, HttpError> {
    let svg = blocking(move || s.energy_report()).await?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
