//! `/api/registered-modules` through the real router over a real Steward: the list, and a
//! directive sent by hand — its bad bodies named field by field, an unknown module a 404.

mod common;

use axum::http::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_starts_empty_and_a_directive_to_nobody_is_a_404() {
    let (_steward, app, _dir) = common::start();
    let (status, list) = common::call(&app, "GET", "/api/registered-modules", None).await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    let body = json!({"directive": {"kind": "pause"}}).to_string();
    let (status, answer) = common::post(&app, "/api/registered-modules/local/vision/directives", &body).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["message"], "no module \"vision\" is registered on node \"local\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_directive_body_is_refused_naming_the_field() {
    let (_steward, app, _dir) = common::start();
    let uri = "/api/registered-modules/local/vision/directives";
    for (body, field) in [
        (json!({"directive": {"kind": "explode"}}), "directive.kind"),
        (json!({"directive": {"kind": "set_quality", "level": -1}}), "directive"),
        (json!({"directive": {"kind": "pause"}, "urgent": true}), "urgent"),
        (json!({"reason": "no directive"}), "directive"),
    ] {
        let (status, answer) = common::post(&app, uri, &body.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["fields"].as_array().unwrap().iter().any(|f| f["field"] == field), "{body}: {answer}");
    }
}
