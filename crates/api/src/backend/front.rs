//! Steward's cluster operations when an external engine is configured: the same calls and
//! answers as the native engine's, sent to the backend off the async runtime.

use std::sync::Arc;

use serde_json::Value;
use steward_core::alloc::time::{format_rfc3339, parse_rfc3339};
use steward_core::alloc::{Allocation, Event, FieldError, Reservation, ReservationChange};
use steward_core::cluster::NodeView;

use super::{BackendInfo, BackendOperation, ClusterBackend, ReservationMove};
use crate::allocation::body::{self, Parsed};
use crate::allocation::field_time;
use crate::clock::now_ms;
use crate::{AllocError, AllocateResponse, AllocateResult, ApiError};

pub(crate) type Backend = Arc<dyn ClusterBackend>;

pub(crate) async fn off_runtime<T: Send + 'static>(
    b: &Backend,
    f: impl FnOnce(&dyn ClusterBackend) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let b = b.clone();
    tokio::task::spawn_blocking(move || f(b.as_ref()))
        .await
        .map_err(|e| ApiError::Internal(format!("backend call failed: {e}")))?
}

pub(crate) fn native_info() -> BackendInfo {
    let ops =
        ["nodes", "jobs", "partitions", "reservations", "submit", "cancel", "reservation changes", "drain and resume"];
    BackendInfo {
        kind: "native".into(),
        description: "Steward's own scheduler, with stewardd agents on the nodes".into(),
        operations: ops
            .iter()
            .map(|op| BackendOperation { name: (*op).into(), available: true, how: "Steward's engine".into() })
            .collect(),
    }
}

pub(crate) async fn allocations(b: &Backend) -> Result<Vec<Allocation>, AllocError> {
    Ok(off_runtime(b, |b| b.allocations()).await?)
}

pub(crate) async fn cancel_allocation(b: &Backend, id: String) -> Result<Allocation, AllocError> {
    Ok(off_runtime(b, move |b| b.cancel_allocation(&id)).await?)
}

/// The window defaults and checks are the native engine's (`allocation::field_time`).
pub(crate) async fn reservations(
    b: &Backend,
    from: Option<String>,
    to: Option<String>,
) -> Result<Vec<Reservation>, AllocError> {
    let now = now_ms();
    let from_ms = field_time("from", from.as_deref(), now - 86_400_000)?;
    let to_ms = field_time("to", to.as_deref(), now + 14 * 86_400_000)?;
    Ok(off_runtime(b, move |b| b.reservations(from_ms, to_ms)).await?)
}

pub(crate) async fn reservation(b: &Backend, id: String) -> Result<Reservation, AllocError> {
    Ok(off_runtime(b, move |b| b.reservation(&id)).await?)
}

pub(crate) async fn update_reservation(
    b: &Backend,
    id: String,
    occurrence: Option<String>,
    change: ReservationChange,
) -> Result<Reservation, AllocError> {
    if occurrence.is_some() {
        return Err(AllocError::Invalid(vec![FieldError::new(
            "occurrence",
            "Slurm moves a repeating reservation as a whole, not one occurrence",
        )]));
    }
    if change.gpus.is_some() {
        return Err(AllocError::Invalid(vec![FieldError::new(
            "gpus",
            "Slurm reserves cores and nodes, not single GPUs",
        )]));
    }
    if change.name.is_some() || change.owner.is_some() {
        return Err(AllocError::Invalid(vec![FieldError::new(
            "name",
            "Steward does not rename Slurm reservations; scontrol update does",
        )]));
    }
    let time = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| parse_rfc3339(s).map_err(|e| AllocError::Invalid(vec![FieldError::new(field, e)])))
            .transpose()
    };
    let to = ReservationMove {
        start_ms: time("start_time", &change.start_time)?,
        end_ms: time("end_time", &change.end_time)?,
        node: change.node,
    };
    Ok(off_runtime(b, move |b| b.move_reservation(&id, &to)).await?)
}

pub(crate) async fn delete_reservation(b: &Backend, id: String, occurrence: Option<String>) -> Result<(), AllocError> {
    if occurrence.is_some() {
        return Err(AllocError::Invalid(vec![FieldError::new(
            "occurrence",
            "Slurm deletes a repeating reservation as a whole, not one occurrence",
        )]));
    }
    Ok(off_runtime(b, move |b| b.delete_reservation(&id)).await?)
}

pub(crate) async fn set_draining(b: &Backend, id: String, draining: bool) -> Result<NodeView, ApiError> {
    off_runtime(b, move |b| b.set_draining(&id, draining)).await
}

pub(crate) async fn events(b: &Backend, kind: Option<String>, limit: usize) -> Result<Vec<Event>, AllocError> {
    Ok(off_runtime(b, move |b| b.events(kind.as_deref(), limit)).await?)
}

/// `POST /resources/allocate` over the backend: the same body and answer as the native engine.
/// Idempotency is the engine's: the request id travels with the job, and a second request with
/// it finds the first job instead of submitting another.
pub(crate) async fn allocate(b: &Backend, body: Value, now_ms: i64) -> Result<AllocateResponse, AllocError> {
    let mut parsed = body::parse(&body).map_err(AllocError::Invalid)?;
    let id = parsed.id().cloned().unwrap_or_else(|| format!("req-{now_ms:x}-{}", std::process::id()));
    parsed.set_id(id.clone());
    let kind = parsed.kind();
    let result = off_runtime(b, move |b| {
        Ok(match parsed {
            Parsed::Allocate(req) => match b.allocate(&req, now_ms)? {
                Ok(a) => AllocateResult::allocation(&a),
                Err(r) => AllocateResult::refused(r),
            },
            Parsed::Reserve(req, window) => match b.reserve(&req, window.start_ms, window.end_ms)? {
                Ok(r) => AllocateResult::reservation(&r),
                Err(r) => AllocateResult::refused(r),
            },
        })
    })
    .await?;
    Ok(AllocateResponse { request_id: id, timestamp: format_rfc3339(now_ms), allocation_type: kind, result })
}
