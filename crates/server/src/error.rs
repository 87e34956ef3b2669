use std::net::SocketAddr;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use steward_api::{AllocError, ApiError, ErrorBody, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0}: Steward serves loopback only until it has TLS and tokens; \
         use 127.0.0.1 (or an SSH tunnel to reach it from elsewhere)"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source} (is another Steward already running? try --listen 127.0.0.1:0)")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
}

/// An error as the HTTP API reports it: the status its kind maps to and the one JSON shape,
/// `{kind, message, fields?}`.
#[derive(Debug)]
pub struct HttpError(pub ErrorBody);

impl HttpError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        HttpError(ErrorBody::new(kind, message))
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.0.kind)
    }
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The kind a status stands for, for responses that did not come from our handlers.
pub fn kind_of(status: StatusCode) -> ErrorKind {
    match status {
        StatusCode::UNAUTHORIZED => ErrorKind::Unauthorized,
        StatusCode::FORBIDDEN => ErrorKind::Forbidden,
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => ErrorKind::NotFound,
        StatusCode::CONFLICT => ErrorKind::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::TooLarge,
        s if s.is_client_error() => ErrorKind::InvalidRequest,
        _ => ErrorKind::Internal,
    }
}

impl From<ErrorBody> for HttpError {
    fn from(e: ErrorBody) -> Self {
        HttpError(e)
    }
}

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError(e.into())
    }
}

impl From<AllocError> for HttpError {
    fn from(e: AllocError) -> Self {
        HttpError(e.into())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(%status, "{}", self.0.message);
        }
        (status, Json(self.0)).into_response()
    }
}
