//! The one error shape both front doors answer with: `{kind, message, fields?}`.
//!
//! HTTP sends it with the status its `kind` maps to; the Tauri commands return it as their error.
//! So the UI tells a caller's mistake from Steward's own fault, and shows per-field problems,
//! the same way whichever backend it runs on.

use serde::{Deserialize, Serialize};
use steward_core::alloc::FieldError;
use ts_rs::TS;

use crate::{AllocError, ApiError};

/// Who is at fault and how; each maps to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorKind {
    /// The request is malformed or breaks a rule (400); `fields` says where.
    InvalidRequest,
    /// No credential, or a wrong one (401).
    Unauthorized,
    /// Refused whoever asks (403), e.g. a foreign Host or Origin.
    Forbidden,
    /// What the request names does not exist (404).
    NotFound,
    /// The request clashes with the current state (409).
    Conflict,
    /// The body is over the size limit (413).
    TooLarge,
    /// A fault inside Steward (500).
    Internal,
}

/// An error as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
#[ts(export)]
pub struct ErrorBody {
    pub kind: ErrorKind,
    /// One sentence for people; for `invalid_request` it sums up `fields`.
    pub message: String,
    /// Every wrong field of the request (dotted path, `""` for the body as a whole).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<FieldError>>", optional)]
    pub fields: Vec<FieldError>,
}

impl ErrorBody {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ErrorBody { kind, message: message.into(), fields: Vec::new() }
    }

    /// A 400 listing every wrong field; the message joins them.
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        let summary: Vec<String> = fields
            .iter()
            .map(|f| if f.field.is_empty() { f.message.clone() } else { format!("{}: {}", f.field, f.message) })
            .collect();
        ErrorBody {
            kind: ErrorKind::InvalidRequest,
            message: format!("invalid request: {}", summary.join("; ")),
            fields,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ErrorBody::new(ErrorKind::InvalidRequest, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ErrorBody::new(ErrorKind::Internal, message)
    }
}

impl From<ApiError> for ErrorBody {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::InvalidFields(fields) => ErrorBody::invalid_fields(fields),
            ApiError::NotFound(m) => ErrorBody::new(ErrorKind::NotFound, m),
            ApiError::Conflict(m) => ErrorBody::new(ErrorKind::Conflict, m),
            e if e.is_client_error() => ErrorBody::invalid(e.to_string()),
            e => ErrorBody::internal(e.to_string()),
        }
    }
}

impl From<AllocError> for ErrorBody {
    fn from(e: AllocError) -> Self {
        match e {
            AllocError::Invalid(fields) => ErrorBody::invalid_fields(fields),
            AllocError::NotFound(m) => ErrorBody::new(ErrorKind::NotFound, m),
            AllocError::Conflict(m) => ErrorBody::new(ErrorKind::Conflict, m),
            AllocError::Api(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shape_is_kind_message_and_fields_only_when_there_are_some() {
        let e = ErrorBody::from(ApiError::NotFound("no node \"x\"".into()));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"kind": "not_found", "message": "no node \"x\""})
        );
        let e =
            ErrorBody::invalid_fields(vec![FieldError::new("a", "is required"), FieldError::new("b.c", "too long")]);
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["kind"], "invalid_request");
        assert_eq!(v["message"], "invalid request: a: is required; b.c: too long");
        assert_eq!(v["fields"][1], serde_json::json!({"field": "b.c", "message": "too long"}));
    }

    #[test]
    fn internal_faults_are_not_blamed_on_the_caller() {
        let e = ErrorBody::from(AllocError::Api(ApiError::Internal("disk on fire".into())));
        assert_eq!(e.kind, ErrorKind::Internal);
        let e = ErrorBody::from(AllocError::Conflict("reserved".into()));
        assert_eq!(e.kind, ErrorKind::Conflict);
    }
}
