//! `/api/datasets` over a real Steward and SQLite file: register, list, replace, remove, the 4xx
//! answers (malformed JSON, a wrong field, an unknown dataset), and a task naming an unknown one.

mod common;

use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn datasets_are_registered_listed_and_removed_with_4xx_for_bad_input() {
    let (s, app, _dir) = common::start();
    common::offline_nodes(&s, ["a", "b:7443", "a:7443", "c:7443"].map(String::from));
    let (st, body) = common::call(&app, "GET", "/api/datasets", None).await;
    assert_eq!((st, body), (StatusCode::OK, json!([])));

    let (st, body) = common::call(
        &app,
        "PUT",
        "/api/datasets/logs",
        Some(r#"{"bytes": 5000000000, "nodes": ["b:7443", "a:7443"]}"#),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"name": "logs", "bytes": 5_000_000_000u64, "nodes": ["b:7443", "a:7443"]}));
    let (st, _) = common::call(&app, "PUT", "/api/datasets/logs", Some(r#"{"bytes": 6, "nodes": ["c:7443"]}"#)).await;
    assert_eq!(st, StatusCode::OK);
    let (_, body) = common::call(&app, "GET", "/api/datasets", None).await;
    assert_eq!(body, json!([{"name": "logs", "bytes": 6, "nodes": ["c:7443"]}]), "replaced, not added");

    for (bad, says) in [
        (r#"{"bytes": 1, "nodes": ["a"]"#, "malformed JSON"),
        (r#"{"bytes": -1, "nodes": ["a"]}"#, "bytes"),
        (r#"{"bytes": 1, "node": ["a"]}"#, "node: is not a field"),
        (
            r#"{"bytes": 1, "nodes": ["a", "10.0.0.5:7443"]}"#,
            "nodes[1]: \"10.0.0.5:7443\" is not a node of this cluster",
        ),
        (r#"{"bytes": 1, "nodes": []}"#, "nodes: list at least one node"),
        (r#"{"bytes": 1, "nodes": ["a", " "]}"#, "nodes[1]"),
    ] {
        let (st, body) = common::call(&app, "PUT", "/api/datasets/other", Some(bad)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{bad}: {body}");
    }
    let (st, body) =
        common::call(&app, "PUT", "/api/datasets/bad%20name", Some(r#"{"bytes": 1, "nodes": ["a"]}"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("name:"), "{body}");

    // A task naming a dataset nobody registered is refused before anything is planned.
    let task = json!({"operation": "distribute", "task": {"command": ["echo"], "input": {"type": "shards", "count": 1}, "dataset": "nope"}});
    let (st, body) = common::post(&app, "/resources/distributed", &task.to_string()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["fields"][0]["field"], "task.dataset");

    let (st, _) = common::call(&app, "DELETE", "/api/datasets/logs", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, body) = common::call(&app, "DELETE", "/api/datasets/logs", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    assert!(body["message"].as_str().unwrap().contains("no dataset named \"logs\""));
    let (_, body) = common::call(&app, "GET", "/api/datasets", None).await;
    assert_eq!(body, json!([]));
}
