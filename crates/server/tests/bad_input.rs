//! Bad input on every kind of route, over a real Steward and SQLite file: each is a 4xx in the
//! one error shape `{kind, message, fields?}` naming every wrong field, never a 5xx.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{HOST, call, post, start};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

fn fields(body: &Value) -> Vec<&str> {
    body["fields"].as_array().map(|f| f.iter().filter_map(|e| e["field"].as_str()).collect()).unwrap_or_default()
}

fn assert_shape(status: StatusCode, body: &Value, kind: &str) {
    assert_eq!(body["kind"], kind, "{status}: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body.as_object().unwrap().keys().all(|k| ["kind", "message", "fields"].contains(&k.as_str())), "{body}");
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name_and_change_nothing() {
    let (_s, app, _d) = start();
    let (_, nodes) = call(&app, "GET", "/api/resources", None).await;
    let node = nodes[0]["node"].as_str().expect("this machine is a node").to_string();
    let reserve = json!({"allocation_type": "reserve", "reservation_request": {
        "owner": "ann", "node": node, "cores": 1, "start_time": "2099-01-01T10:00:00Z", "end_time": "2099-01-01T11:00:00Z"}});
    let (st, made) = post(&app, "/resources/allocate", &reserve.to_string()).await;
    assert_eq!(st, StatusCode::OK, "{made}");
    let id = made["result"]["reservation_id"].as_str().expect("reserved").to_string();

    let uri = format!("/api/reservations/{id}");
    let (_, before) = call(&app, "GET", &uri, None).await;
    let (st, body) = call(&app, "PATCH", &uri, Some(r#"{"start": "2099-01-01T12:00:00Z", "ends": 1}"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_shape(st, &body, "invalid_request");
    assert_eq!(fields(&body), ["ends", "start"]);
    let (_, after) = call(&app, "GET", &uri, None).await;
    assert_eq!(after, before);

    let extra = json!({"allocation_type": "allocate", "colour": "red",
        "allocation_request": {"owner": "ann", "resources": {"cores": 1, "gpu": 2}, "duration_s": 60}});
    let (st, body) = post(&app, "/resources/allocate", &extra.to_string()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(fields(&body), ["allocation_request.resources.gpu", "colour"]);

    let history = r#"{"series": ["cpu.total"], "from_ms": 0, "to_ms": 1, "max_points": 10, "loud": 1}"#;
    let (st, body) = call(&app, "POST", "/api/history", Some(history)).await;
    assert_eq!((st, fields(&body)), (StatusCode::BAD_REQUEST, vec!["loud"]), "{body}");
}

#[tokio::test]
async fn five_wrong_fields_are_five_errors_in_plain_words() {
    let (_s, app, _d) = start();
    let bad = json!({"allocation_type": "allocate", "allocation_request": {
        "owner": 7, "priority": {"level": 1}, "resources": {"gpus": "two", "cores": -1}, "duration_s": "1h"}});
    let (st, body) = post(&app, "/resources/allocate", &bad.to_string()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    let mut got = fields(&body);
    got.sort();
    assert_eq!(
        got,
        [
            "allocation_request.duration_s",
            "allocation_request.owner",
            "allocation_request.priority",
            "allocation_request.resources.cores",
            "allocation_request.resources.gpus"
        ],
        "{body}"
    );
    let text = body.to_string();
    assert!(!text.contains("untagged") && !text.contains("invalid type"), "serde's wording: {text}");
    assert!(text.contains("must be a whole number from 0 to 4294967295 (got the text \\\"two\\\")"), "{text}");
}

#[tokio::test]
async fn malformed_json_is_a_400_with_fields_on_every_body_route() {
    let (_s, app, _d) = start();
    for (method, uri) in [
        ("PATCH", "/api/reservations/x"),
        ("POST", "/api/history"),
        ("PUT", "/api/datasets/d"),
        ("POST", "/resources/allocate"),
        ("POST", "/resources/distributed"),
        ("POST", "/resources/accelerators"),
        ("POST", "/resources/degradation"),
        ("POST", "/resources/energy"),
        ("POST", "/resources/profile"),
    ] {
        let (st, body) = call(&app, method, uri, Some("{\"a\": ")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_shape(st, &body, "invalid_request");
        assert_eq!(fields(&body), [""], "{uri}: {body}");
        assert!(body["message"].as_str().unwrap().contains("malformed JSON"), "{uri}: {body}");
    }
}

#[tokio::test]
async fn history_over_i64_extremes_is_a_400_naming_the_fields() {
    let (_s, app, _d) = start();
    let q = json!({"series": ["cpu.total"], "from_ms": i64::MIN, "to_ms": i64::MAX, "max_points": 100});
    let (st, body) = call(&app, "POST", "/api/history", Some(&q.to_string())).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(fields(&body), ["from_ms", "to_ms"]);
    let q = json!({"series": ["cpu.total"], "from_ms": 0, "to_ms": 253_402_300_799_999i64, "max_points": 10_000});
    let (st, body) = call(&app, "POST", "/api/history", Some(&q.to_string())).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(body[0]["bucket_ms"].as_i64().unwrap() > 0, "{body}");
}

#[tokio::test]
async fn strings_have_limits() {
    let (_s, app, _d) = start();
    let owner = "o".repeat(1 << 20);
    let bad = json!({"allocation_type": "allocate", "allocation_request": {"owner": owner, "resources": {"cores": 1}, "duration_s": 60}});
    let (st, body) = post(&app, "/resources/allocate", &bad.to_string()).await;
    assert_eq!((st, fields(&body)), (StatusCode::BAD_REQUEST, vec!["allocation_request.owner"]), "{}", body["message"]);
    let bad = json!({"allocation_type": "allocate", "allocation_request": {"owner": "o".repeat(200), "resources": {"cores": 1}, "duration_s": 60}});
    let (st, body) = post(&app, "/resources/allocate", &bad.to_string()).await;
    assert_eq!((st, fields(&body)), (StatusCode::BAD_REQUEST, vec!["allocation_request.owner"]), "{body}");
    // The envelope's id becomes the request's: it has the same limit.
    let bad = json!({"id": "i".repeat(60_000), "allocation_type": "allocate", "allocation_request": {"owner": "o", "resources": {"cores": 1}, "duration_s": 60}});
    let (st, body) = post(&app, "/resources/allocate", &bad.to_string()).await;
    assert_eq!((st, fields(&body)), (StatusCode::BAD_REQUEST, vec!["id"]), "{body}");
    let (st, body) =
        post(&app, "/resources/allocate", &json!({"allocation_type": "x".repeat(60_000)}).to_string()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body.to_string().len() < 1_000, "a long value is not echoed back: {} bytes", body.to_string().len());
}

#[tokio::test]
async fn bodies_over_the_limit_are_a_413_in_the_one_shape_on_every_route() {
    let (_s, app, _d) = start();
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(steward_server::BODY_LIMIT_BYTES));
    for (method, uri) in [
        ("POST", "/resources/allocate"),
        ("POST", "/resources/distributed"),
        ("POST", "/resources/accelerators"),
        ("POST", "/resources/degradation"),
        ("POST", "/resources/energy"),
        ("POST", "/resources/profile"),
        ("POST", "/api/history"),
        ("PUT", "/api/datasets/d"),
        ("PATCH", "/api/reservations/x"),
    ] {
        let (st, body) = call(&app, method, uri, Some(&big)).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{uri}: {body}");
        assert_shape(st, &body, "too_large");
    }
}

#[tokio::test]
async fn errors_from_outside_the_handlers_are_in_the_shape_too() {
    let (_s, app, _d) = start();
    let (st, body) = call(&app, "DELETE", "/api/history", None).await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert_shape(st, &body, "not_found");
    let (st, body) = call(&app, "GET", "/api/live", None).await;
    assert!(st.is_client_error(), "{st}");
    assert_shape(st, &body, "invalid_request");
    let (st, body) = call(&app, "GET", "/api/events?limit=lots", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_shape(st, &body, "invalid_request");
    let (st, body) = common::call_as(&app, "GET", "/api/status", "evil.example", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_shape(st, &body, "forbidden");

    let req = Request::post("/api/history")
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, format!("Bearer {}", common::TOKEN))
        .body(Body::from("{}"))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a body without Content-Type: application/json");
    let body: Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_shape(StatusCode::BAD_REQUEST, &body, "invalid_request");
}

#[tokio::test]
async fn degradation_says_which_field_is_wrong_and_404s_what_is_not_there() {
    let (_s, app, _d) = start();
    let ask = |body: &'static str| post(&app, "/resources/degradation", body);
    let (st, body) = ask(r#"{"operation": "explode"}"#).await;
    assert_eq!((st, fields(&body)), (StatusCode::BAD_REQUEST, vec!["operation"]), "{body}");
    let (st, body) = ask(r#"{"operation": "set_policy", "policy": {"name": "p", "when": {"constraint": "memory"},
            "steps": [{"action": "pause", "target": {"criticality": "critical"}}]}}"#)
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(fields(&body), ["policy.steps[0].target"], "{body}");
    assert!(body.to_string().contains("never degraded"), "{body}");
    let (st, body) = ask(r#"{"operation": "override", "override": {"module": "nobody", "force_level": 1}}"#).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    let (st, body) = ask(r#"{"operation": "set_policy", "remove": "no-such-policy"}"#).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    let (st, body) = ask(r#"{"operation": "status", "id": "r-1"}"#).await;
    assert_eq!((st, &body["request_id"]), (StatusCode::OK, &json!("r-1")), "{body}");
    assert_eq!(body["operation"], "status");
}
