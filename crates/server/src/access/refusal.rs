//! The 401 answers: JSON in the API's error shape for programs, a short page for a browser,
//! both saying how to get in.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use steward_api::ErrorKind;

use crate::error::HttpError;

pub(super) enum Why {
    Missing,
    WrongToken,
    NotBearer,
}

impl Why {
    fn message(&self) -> &'static str {
        match self {
            Why::Missing => "this Steward needs its access token",
            Why::WrongToken => "wrong access token (it may have been rotated)",
            Why::NotBearer => "the Authorization header must be `Bearer <token>`",
        }
    }
}

const HOW_TO_GET_IN: &str = "open the URL `stewardctl serve` printed (it carries ?token=…) or run `stewardctl url` \
     on this machine to print it again; programs send `Authorization: Bearer <token>` (stewardctl finds the token \
     by itself)";

pub(super) fn refuse(path: &str, why: Why) -> Response {
    let message = format!("{}: {HOW_TO_GET_IN}", why.message());
    let mut response = if is_api(path) {
        HttpError::new(ErrorKind::Unauthorized, message).into_response()
    } else {
        (StatusCode::UNAUTHORIZED, Html(page(why.message()))).into_response()
    };
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"steward\""));
    response
}

pub(super) fn is_api(path: &str) -> bool {
    ["/api", "/resources"].iter().any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

fn page(why: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Steward: sign in</title></head>\
         <body><h1>Steward</h1><p>{why}.</p>\
         <p>Open the URL that <code>stewardctl serve</code> printed when it started: it carries \
         <code>?token=…</code> once and this browser keeps it. To print it again, run \
         <code>stewardctl url</code> on this machine (as the user running Steward).</p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_get_json_and_pages_get_html() {
        assert!(is_api("/api/status") && is_api("/resources/allocate") && is_api("/api"));
        assert!(!is_api("/") && !is_api("/apis") && !is_api("/assets/index.js"));
    }
}
