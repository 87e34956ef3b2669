//! Allocations and reservations: `/resources/allocate` (the REST endpoint) and the
//! `/api` routes the calendar and queue views use. One-line handlers over `Steward`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use steward_api::{AllocError, AllocateResponse, Steward};
use steward_core::alloc::{Allocation, Event, NodeResources, Reservation, ReservationChange};

use super::json::JsonBody;
use crate::error::HttpError;

/// An allocation error as HTTP: 400 with per-field `errors`, 404, 409 with the reason.
pub struct AllocHttpError(AllocError);

impl From<AllocError> for AllocHttpError {
    fn from(e: AllocError) -> Self {
        AllocHttpError(e)
    }
}

impl IntoResponse for AllocHttpError {
    fn into_response(self) -> Response {
        match self.0 {
            AllocError::Invalid(errors) => {
                let error = AllocError::Invalid(errors.clone()).to_string();
                (StatusCode::BAD_REQUEST, Json(json!({ "error": error, "errors": errors }))).into_response()
            }
            AllocError::NotFound(m) => HttpError { status: StatusCode::NOT_FOUND, message: m }.into_response(),
            AllocError::Conflict(m) => HttpError { status: StatusCode::CONFLICT, message: m }.into_response(),
            AllocError::Api(e) => HttpError::from(e).into_response(),
        }
    }
}

type Answer<T> = Result<T, AllocHttpError>;

/// The body is taken as bytes so malformed JSON is a 400 with our message, not axum's 422.
pub async fn allocate(State(s): State<Steward>, body: Bytes) -> Answer<Json<AllocateResponse>> {
    let value = serde_json::from_slice(&body).map_err(|e| {
        AllocError::Invalid(vec![steward_core::alloc::FieldError::new("", format!("malformed JSON: {e}"))])
    })?;
    Ok(Json(s.allocate(value).await?))
}

pub async fn resources(State(s): State<Steward>) -> Json<Vec<NodeResources>> {
    Json(s.resources())
}

#[derive(Deserialize)]
pub struct Window {
    from: Option<String>,
    to: Option<String>,
}

pub async fn reservations(State(s): State<Steward>, Query(w): Query<Window>) -> Answer<Json<Vec<Reservation>>> {
    Ok(Json(s.reservations(w.from, w.to).await?))
}

/// `?occurrence=<RFC 3339>`: only the occurrence a repeating series starts then.
#[derive(Deserialize)]
pub struct Occurrence {
    occurrence: Option<String>,
}

pub async fn reservation(State(s): State<Steward>, Path(id): Path<String>) -> Answer<Json<Reservation>> {
    Ok(Json(s.reservation(id).await?))
}

pub async fn update_reservation(
    State(s): State<Steward>,
    Path(id): Path<String>,
    Query(o): Query<Occurrence>,
    JsonBody(change): JsonBody<ReservationChange>,
) -> Answer<Json<Reservation>> {
    Ok(Json(s.update_reservation(id, o.occurrence, change).await?))
}

pub async fn delete_reservation(
    State(s): State<Steward>,
    Path(id): Path<String>,
    Query(o): Query<Occurrence>,
) -> Answer<StatusCode> {
    s.delete_reservation(id, o.occurrence).await.map(|()| StatusCode::NO_CONTENT).map_err(Into::into)
}

pub async fn reservations_ics(State(s): State<Steward>) -> Answer<Response> {
    let body = s.reservations_ics().await?;
    Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], body).into_response())
}

pub async fn allocations(State(s): State<Steward>) -> Answer<Json<Vec<Allocation>>> {
    Ok(Json(s.allocations().await?))
}

pub async fn cancel_allocation(State(s): State<Steward>, Path(id): Path<String>) -> Answer<StatusCode> {
    s.cancel_allocation(id).await.map(|_| StatusCode::NO_CONTENT).map_err(Into::into)
}

#[derive(Deserialize)]
pub struct EventFilter {
    kind: Option<String>,
    limit: Option<u32>,
}

pub async fn events(State(s): State<Steward>, Query(f): Query<EventFilter>) -> Answer<Json<Vec<Event>>> {
    Ok(Json(s.events(f.kind, f.limit).await?))
}
