//! Allocations and reservations: `/resources/allocate` (the REST endpoint) and the
//! `/api` routes the calendar and queue views use. One-line handlers over `Steward`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use steward_api::{AllocateResponse, Steward};
use steward_core::alloc::{Allocation, Event, NodeResources, Reservation, ReservationChange};

use super::json::{JsonBody, JsonValue, QueryParams};
use crate::error::HttpError;

type Answer<T> = Result<T, HttpError>;

/// Any content type, as the endpoint's clients send; `Steward` checks every field.
pub async fn allocate(State(s): State<Steward>, JsonValue(value): JsonValue) -> Answer<Json<AllocateResponse>> {
    Ok(Json(s.allocate(value).await?))
}

pub async fn resources(State(s): State<Steward>) -> Answer<Json<Vec<NodeResources>>> {
    Ok(Json(s.calendar_resources().await?))
}

#[derive(Deserialize)]
pub struct Window {
    from: Option<String>,
    to: Option<String>,
}

pub async fn reservations(
    State(s): State<Steward>,
    QueryParams(w): QueryParams<Window>,
) -> Answer<Json<Vec<Reservation>>> {
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
    QueryParams(o): QueryParams<Occurrence>,
    JsonBody(change): JsonBody<ReservationChange>,
) -> Answer<Json<Reservation>> {
    Ok(Json(s.update_reservation(id, o.occurrence, change).await?))
}

pub async fn delete_reservation(
    State(s): State<Steward>,
    Path(id): Path<String>,
    QueryParams(o): QueryParams<Occurrence>,
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

pub async fn events(State(s): State<Steward>, QueryParams(f): QueryParams<EventFilter>) -> Answer<Json<Vec<Event>>> {
    Ok(Json(s.events(f.kind, f.limit).await?))
}
