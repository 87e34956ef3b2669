//! The `POST /resources/allocate` body and answer: parsing with per-field errors, and the
//! response shape the issue specifies.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_core::alloc::time::format_rfc3339;
use steward_core::alloc::{
    AllocState, Allocation, AllocationRequest, FieldError, NodeAvailability, Refusal, Reservation, ReservationRequest,
    Window,
};
use ts_rs::TS;

use crate::request_body::{from_value, unknown_keys, with_envelope_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AllocationType {
    Allocate,
    Reserve,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AllocateResponse {
    /// The request's `id` (generated when it had none).
    pub request_id: String,
    pub timestamp: String,
    pub allocation_type: AllocationType,
    pub result: AllocateResult,
}

/// `success: true` with the grant, or `success: false` with `error` and `availability`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AllocateResult {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub availability: Option<Vec<NodeAvailability>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub allocation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reservation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub allocated_resources: Option<GrantedResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reserved_resources: Option<GrantedResources>,
    /// RFC 3339; `null` while an allocation waits in the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub start_time: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub end_time: Option<Option<String>>,
    /// For allocations: `running`, or `pending` (queued) with `pending_reason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub state: Option<AllocState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub pending_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GrantedResources {
    pub node: Option<String>,
    pub gpus: Vec<String>,
    #[ts(type = "number | null")]
    pub gpu_memory_bytes: Option<u64>,
    pub cores: u32,
    #[ts(type = "number")]
    pub memory_bytes: u64,
}

impl AllocateResult {
    pub fn refused(r: Refusal) -> Self {
        AllocateResult {
            success: false,
            error: Some(r.error),
            availability: Some(r.availability),
            ..Default::default()
        }
    }

    pub fn allocation(a: &Allocation) -> Self {
        AllocateResult {
            success: true,
            allocation_id: Some(a.id.clone()),
            allocated_resources: Some(GrantedResources {
                node: a.node.clone(),
                gpus: a.gpus.clone(),
                gpu_memory_bytes: a.gpu_memory_bytes,
                cores: a.cores,
                memory_bytes: a.memory_bytes,
            }),
            start_time: Some(a.start_time.map(format_rfc3339)),
            end_time: Some(a.end_time.map(format_rfc3339)),
            state: Some(a.state),
            pending_reason: a.pending_reason.clone(),
            ..Default::default()
        }
    }

    pub fn reservation(r: &Reservation) -> Self {
        AllocateResult {
            success: true,
            reservation_id: Some(r.id.clone()),
            reserved_resources: Some(GrantedResources {
                node: Some(r.node.clone()),
                gpus: r.gpus.clone(),
                gpu_memory_bytes: None,
                cores: r.cores,
                memory_bytes: r.memory_bytes,
            }),
            start_time: Some(Some(format_rfc3339(r.start_time))),
            end_time: Some(Some(format_rfc3339(r.end_time))),
            ..Default::default()
        }
    }
}

pub(crate) enum Parsed {
    Allocate(AllocationRequest),
    Reserve(ReservationRequest, Window),
}

impl Parsed {
    pub fn id(&self) -> Option<&String> {
        match self {
            Parsed::Allocate(r) => r.id.as_ref(),
            Parsed::Reserve(r, _) => r.id.as_ref(),
        }
    }

    pub fn set_id(&mut self, id: String) {
        match self {
            Parsed::Allocate(r) => r.id = Some(id),
            Parsed::Reserve(r, _) => r.id = Some(id),
        }
    }

    pub fn kind(&self) -> AllocationType {
        match self {
            Parsed::Allocate(_) => AllocationType::Allocate,
            Parsed::Reserve(..) => AllocationType::Reserve,
        }
    }
}

/// Every problem with the body, per field; the typed request when there is none.
pub(crate) fn parse(body: &Value) -> Result<Parsed, Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("", "the body must be a JSON object")]);
    };
    let envelope = unknown_keys(obj, &["id", "allocation_type", "allocation_request", "reservation_request"]);
    with_envelope_errors(parse_known(obj), envelope)
}

fn parse_known(obj: &serde_json::Map<String, Value>) -> Result<Parsed, Vec<FieldError>> {
    // Checked here: it becomes the request's id after the request was validated.
    let top_id = crate::envelope::request_id(obj).map_err(|e| vec![e])?;
    let kind = obj.get("allocation_type").and_then(Value::as_str);
    let mut parsed = match kind {
        Some("allocate") => {
            let Some(v) = obj.get("allocation_request") else {
                return Err(vec![FieldError::new(
                    "allocation_request",
                    "is required for allocation_type \"allocate\"",
                )]);
            };
            let req: AllocationRequest = from_value("allocation_request", v)?;
            let errors = req.validate("allocation_request");
            if !errors.is_empty() {
                return Err(errors);
            }
            Parsed::Allocate(req)
        }
        Some("reserve") => {
            let Some(v) = obj.get("reservation_request") else {
                return Err(vec![FieldError::new(
                    "reservation_request",
                    "is required for allocation_type \"reserve\"",
                )]);
            };
            let req: ReservationRequest = from_value("reservation_request", v)?;
            let window = req.validate("reservation_request")?;
            Parsed::Reserve(req, window)
        }
        other => {
            let got = match other {
                None => "nothing".to_string(),
                Some(s) if s.len() > 40 => format!("a string of {} bytes", s.len()),
                Some(s) => format!("{s:?}"),
            };
            return Err(vec![FieldError::new(
                "allocation_type",
                format!("must be \"allocate\" or \"reserve\", got {got}"),
            )]);
        }
    };
    if parsed.id().is_none()
        && let Some(id) = top_id
    {
        parsed.set_id(id);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_path() {
        let body = serde_json::json!({"allocation_type": "allocate", "allocation_request": {"owner": "a", "resources": {"gpus": "two"}}});
        let Err(errors) = parse(&body) else { panic!("accepted") };
        assert_eq!(errors[0].field, "allocation_request.resources.gpus");
        let body = serde_json::json!({"allocation_type": "reserve", "reservation_request": {"owner": "", "node": "n", "gpus": ["n/gpu0"], "start_time": "x", "end_time": "2025-01-01T00:00:00Z"}});
        let Err(errors) = parse(&body) else { panic!("accepted") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["reservation_request.owner", "reservation_request.start_time"]);
        let Err(errors) = parse(&serde_json::json!({"allocation_type": "borrow"})) else { panic!("accepted") };
        assert_eq!(errors[0].field, "allocation_type");
    }
}
