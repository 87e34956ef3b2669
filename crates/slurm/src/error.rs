use thiserror::Error;

#[derive(Debug, Error)]
pub enum SlurmError {
    /// slurmrestd could not be reached at all.
    #[error("cannot reach slurmrestd at {url}: {cause}")]
    Unreachable { url: String, cause: String },
    /// Slurm answered and refused: its own words.
    #[error("Slurm refused: {0}")]
    Refused(String),
    /// The JWT was missing, expired or rejected.
    #[error("slurmrestd rejected the credential (HTTP {status}): is the JWT valid and for this user?")]
    Unauthorized { status: u16 },
    /// No OpenAPI plugin version this client speaks.
    #[error("slurmrestd offers none of the OpenAPI versions Steward speaks ({offered})")]
    NoVersion { offered: String },
    #[error("cannot run {program}: {cause}")]
    Command { program: String, cause: String },
    #[error("unexpected answer from Slurm: {0}")]
    Malformed(String),
    #[error("cannot read the JWT from {path}: {cause}")]
    Token { path: String, cause: String },
}
