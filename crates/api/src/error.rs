use steward_core::alloc::FieldError;
use steward_store::StoreError;

/// What went wrong, sorted by who can fix it; front doors turn it into an
/// [`ErrorBody`](crate::ErrorBody), whose kind maps to a status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The caller sent something unusable (HTTP 400).
    #[error("{0}")]
    InvalidInput(String),
    /// The caller sent something unusable, field by field (HTTP 400 with `fields`).
    #[error("invalid request: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<FieldError>),
    /// The caller asked for something that does not exist (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with the current state (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// The history database could not be opened or used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A fault inside Steward (HTTP 500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// True when the request, not Steward, is at fault.
    pub fn is_client_error(&self) -> bool {
        match self {
            ApiError::InvalidInput(_) | ApiError::InvalidFields(_) | ApiError::NotFound(_) | ApiError::Conflict(_) => {
                true
            }
            ApiError::Store(e) => matches!(e, StoreError::InvalidQuery(_)),
            ApiError::Internal(_) => false,
        }
    }
}
