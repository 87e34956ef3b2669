//! `/resources/distributed` and the executions routes over a real Steward and SQLite file (no
//! nodes attached: a task is refused with why unless it asks to wait, then its plan is empty and
//! it waits; the agents' side is tested in steward-api and the system tests).

mod common;

use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn distribute_and_monitor_answer_the_issue_shapes_and_errors_are_4xx() {
    let (_s, app, _dir) = common::start();
    let (st, body) = common::post(&app, "/resources/distributed", "{nope").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("malformed JSON"));
    let (st, body) = common::post(&app, "/resources/distributed", r#"{"operation":"explode"}"#).await;
    assert_eq!((st, body["fields"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("operation")));
    let (st, body) =
        common::post(&app, "/resources/distributed", r#"{"operation":"monitor","execution_id":"nope"}"#).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");

    let mut req = json!({"id": "r-7", "operation": "distribute", "task": {"command": ["echo", "{start}"], "input": {"type": "range", "start": 0, "end": 10}, "partitions": 2}});
    let (st, body) = common::post(&app, "/resources/distributed", &req.to_string()).await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("no node accepts work: no node is added"), "{body}");
    req["task"]["wait"] = json!(true);
    let (st, body) = common::post(&app, "/resources/distributed", &req.to_string()).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!((body["request_id"].as_str(), body["operation"].as_str()), (Some("r-7"), Some("distribute")));
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    let r = &body["result"];
    assert_eq!(r["partitions"].as_array().unwrap().len(), 2);
    assert_eq!(r["partitions"][1]["input"], json!({"type": "range", "start": 5, "end": 10}));
    assert_eq!(r["assignments"][0], json!({"partition": 0, "node": null}));
    let exec = r["execution_id"].as_str().unwrap().to_string();
    assert!(r["task_id"].is_string());

    let (st, body) = common::post(
        &app,
        "/resources/distributed",
        &json!({"operation": "monitor", "execution_id": exec}).to_string(),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(body["request_id"].as_str().unwrap().starts_with("req-"), "generated when absent");
    let m = &body["result"];
    assert_eq!((m["status"].as_str(), m["progress"].as_f64()), (Some("running"), Some(0.0)));
    assert_eq!(m["report"]["partitions"], 2);
    assert!(m["node_statuses"].as_array().unwrap().is_empty() && m["stragglers"].as_array().unwrap().is_empty());

    let (st, list) = common::call(&app, "GET", "/api/executions", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list[0]["execution_id"].as_str(), Some(exec.as_str()));
    assert_eq!(list[0]["partitions"][0]["state"], "pending");
    assert!(list[0]["partitions"][0]["waiting"].as_str().unwrap().starts_with("no node accepts work"), "{list}");
    let (st, body) = common::call(&app, "GET", &format!("/api/executions/{exec}/partitions/0/output"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "no result yet: {body}");
    let (st, _) = common::call(&app, "GET", "/api/executions/nope", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, one) = common::post(&app, &format!("/api/executions/{exec}/cancel"), "").await;
    assert_eq!((st, one["status"].as_str()), (StatusCode::OK, Some("cancelled")));
    let (st, out) = common::call(&app, "GET", &format!("/api/executions/{exec}/output"), None).await;
    assert_eq!((st, out), (StatusCode::OK, json!([])));
}
