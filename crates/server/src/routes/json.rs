//! Request bodies and query strings whose rejections are the one JSON error shape: malformed
//! JSON, wrong or unknown fields (all of them), and bodies over the limit (413).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use steward_api::ErrorKind;

use crate::BODY_LIMIT_BYTES;
use crate::error::HttpError;

/// A typed JSON body (`Content-Type: application/json` required).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(HttpError::new(
                ErrorKind::InvalidRequest,
                "expected a JSON body with Content-Type: application/json",
            ));
        }
        let bytes = body_bytes(req, state).await?;
        Ok(JsonBody(steward_api::parse_body(&bytes)?))
    }
}

/// A JSON body read as a value, for the `/resources/*` routes whose service validates the
/// fields itself (any content type, as their clients send).
pub struct JsonValue(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonValue {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        Ok(JsonValue(steward_api::parse_json(&bytes)?))
    }
}

/// Query parameters; a wrong one is a 400 in the one shape.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(t)) => Ok(QueryParams(t)),
            Err(rejection) => Err(HttpError::new(ErrorKind::InvalidRequest, rejection.body_text())),
        }
    }
}

fn is_json(req: &Request) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let mime = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, HttpError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            HttpError::new(ErrorKind::InvalidRequest, rejection.body_text())
        }
    })
}

pub fn too_large() -> HttpError {
    HttpError::new(ErrorKind::TooLarge, format!("the body is over the limit of {BODY_LIMIT_BYTES} bytes"))
}
