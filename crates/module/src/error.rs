/// What went wrong talking to Steward.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    #[error("cannot reach Steward at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("the token cannot travel in a header")]
    BadToken,
    /// Steward no longer knows the module (it or its agent restarted): register again.
    #[error("not registered: {0}")]
    NotRegistered(String),
    #[error("Steward refused the call ({code:?}): {message}")]
    Refused { code: tonic::Code, message: String },
    #[error("Steward sent something this build cannot read: {0}")]
    Decode(String),
}

impl From<tonic::Status> for ModuleError {
    fn from(s: tonic::Status) -> Self {
        match s.code() {
            tonic::Code::NotFound => ModuleError::NotRegistered(s.message().to_string()),
            code => ModuleError::Refused { code, message: s.message().to_string() },
        }
    }
}
