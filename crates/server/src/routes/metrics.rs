//! `/metrics` for Prometheus, in the format the scraper's `Accept` prefers. Behind the same
//! credential as every route: scrape with `authorization: credentials_file: <token file>`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::response::IntoResponse;
use steward_api::{MetricsFormat, Steward};

pub async fn metrics(State(s): State<Steward>, headers: HeaderMap) -> impl IntoResponse {
    let format = MetricsFormat::from_accept(headers.get(ACCEPT).and_then(|v| v.to_str().ok()));
    ([(CONTENT_TYPE, format.content_type())], s.metrics(format))
}
