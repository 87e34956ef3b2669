//! The JSON API under `/api`. Every handler is a one-line call into `Steward`.

mod json;
mod live;
mod machine;

use axum::Router;
use axum::routing::{get, post};
use steward_api::Steward;

pub fn api() -> Router<Steward> {
    Router::new()
        .route("/inventory", get(machine::inventory))
        .route("/status", get(machine::status))
        .route("/snapshot", get(machine::snapshot))
        .route("/history", post(machine::history))
        .route("/series", get(machine::series))
        .route("/visibility", post(machine::visibility))
        .route("/live", get(live::live))
        .fallback(|| async { crate::error::HttpError {
            status: axum::http::StatusCode::NOT_FOUND,
            message: "no such API route".into(),
        } })
}
