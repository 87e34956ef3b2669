use std::path::PathBuf;

/// Why a source could not be read. Its `Display` is the human reason that ends up in
/// `Reading::Unavailable`.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("{path} is readable only by root on this kernel (permission denied)")]
    PermissionDenied { path: PathBuf },
    #[error("{path} does not exist on this machine")]
    Missing { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("unexpected contents in {path}: {what}")]
    Parse { path: PathBuf, what: String },
}

impl TelemetryError {
    pub(crate) fn io(path: PathBuf, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::PermissionDenied => TelemetryError::PermissionDenied { path },
            std::io::ErrorKind::NotFound => TelemetryError::Missing { path },
            _ => TelemetryError::Io { path, source },
        }
    }

    pub(crate) fn parse(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        TelemetryError::Parse { path: path.into(), what: what.into() }
    }
}
