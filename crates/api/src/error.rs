use steward_store::StoreError;

/// What went wrong, sorted by who can fix it; front doors map the variant to a status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The caller sent something unusable (HTTP 400).
    #[error("{0}")]
    InvalidInput(String),
    /// The caller asked for something that does not exist (HTTP 404).
    #[error("{0}")]
    NotFound(String),
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
            ApiError::InvalidInput(_) | ApiError::NotFound(_) => true,
            ApiError::Store(e) => matches!(e, StoreError::InvalidQuery(_)),
            ApiError::Internal(_) => false,
        }
    }
}
