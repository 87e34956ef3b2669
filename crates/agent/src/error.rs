/// What can go wrong in the agent or when dialing one; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("refusing to listen on {0} without TLS: off loopback the agent always uses TLS")]
    PlainTextOffLoopback(std::net::SocketAddr),
    #[error("{0} is not a loopback address: give the agent's certificate fingerprint (TLS is required off loopback)")]
    FingerprintRequired(String),
    #[error("bad address {0:?}: expected host:port, e.g. 127.0.0.1:7879")]
    BadAddress(String),
    #[error("refusing to start with a weak token, {0}")]
    WeakToken(String),
    #[error("state directory {path}: {source}")]
    State { path: std::path::PathBuf, source: std::io::Error },
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("cannot reach the agent at {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("the agent at {address} refused the token: {message}")]
    Unauthenticated { address: String, message: String },
    #[error(
        "the agent at {address} presented certificate {actual}, not the pinned {expected}: refusing (a different machine, or the agent's state was reset — check and add it again)"
    )]
    FingerprintMismatch { address: String, expected: String, actual: String },
    #[error("the agent answered {code:?}: {message}")]
    Rpc { code: tonic::Code, message: String },
    #[error("the agent sent data this build cannot read: {0}")]
    Decode(String),
    #[error("server: {0}")]
    Serve(String),
}

impl AgentError {
    /// The call may not have reached the agent, or its answer was lost on the way back: what
    /// the agent did is unknown, so the node's liveness (and an idempotent resend) decides.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            AgentError::Unreachable { .. } => true,
            AgentError::Rpc { code, .. } => {
                matches!(
                    code,
                    tonic::Code::Unavailable
                        | tonic::Code::Cancelled
                        | tonic::Code::Unknown
                        | tonic::Code::DeadlineExceeded
                )
            }
            _ => false,
        }
    }
}
