//! Errors that did not come from our handlers (an unknown method, a failed WebSocket upgrade,
//! a body over the limit met before any extractor) rewritten into the one JSON error shape, so
//! a client never has to parse plain text.

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use steward_api::ErrorBody;

use crate::error::kind_of;

/// The most of a plain-text error body kept as the message.
const MESSAGE_LIMIT_BYTES: usize = 4096;

pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, MESSAGE_LIMIT_BYTES).await.map(|b| String::from_utf8_lossy(&b).trim().to_string());
    let message = match text {
        Ok(t) if !t.is_empty() => t,
        _ => status.canonical_reason().unwrap_or("request failed").to_lowercase(),
    };
    let mut rewritten = (status, Json(ErrorBody::new(kind_of(status), message))).into_response();
    for name in [header::ALLOW, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            rewritten.headers_mut().insert(name, v.clone());
        }
    }
    rewritten
}

fn is_json(response: &Response<Body>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
