//! Energy: `POST /resources/energy` (also `/api/energy`), one envelope for every operation
//! (`monitor`, `plan`, `apply`, `rollback`, `journal`), and the exported report. One-line
//! handlers over `Steward`.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use steward_api::{EnergyResponse, Steward};

use super::json::JsonValue;
use super::profile::blocking;
use crate::error::HttpError;

/// Any content type, as the endpoint's clients send; `Steward` checks every field.
pub async fn energy(State(s): State<Steward>, JsonValue(value): JsonValue) -> Result<Json<EnergyResponse>, HttpError> {
    Ok(Json(s.energy(value).await?))
}

/// The exported report, `GET /api/energy/report.svg`.
pub async fn report(State(s): State<Steward>) -> Result<Response, HttpError> {
    let svg = blocking(move || s.energy_report()).await?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
