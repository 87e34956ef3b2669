use std::net::SocketAddr;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use steward_api::ApiError;

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

/// An error as the HTTP API reports it: a status and `{"error": "..."}`.
#[derive(Debug)]
pub struct HttpError {
    pub status: StatusCode,
    pub message: String,
}

impl HttpError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        HttpError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
}

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        let status = match &e {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            e if e.is_client_error() => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        HttpError { status, message: e.to_string() }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, "{}", self.message);
        }
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}
