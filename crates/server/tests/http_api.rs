//! The HTTP front door over a real Steward (real sampler, real SQLite file in a temp dir).

mod common;

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::{Request, header};
use common::{HOST, call, call_as, start};
use serde_json::Value;
use steward_api::{SamplingMode, Steward};
use tower::ServiceExt;

#[tokio::test]
async fn inventory_reports_this_machine() {
    let (_s, app, _d) = start();
    let (status, inv) = call(&app, "GET", "/api/inventory", None).await;
    assert_eq!(status, StatusCode::OK);
    let cores = std::thread::available_parallelism().unwrap().get() as u64;
    assert_eq!(inv["logical_cores"].as_u64(), Some(cores));
    assert!(inv["hostname"].as_str().is_some_and(|h| !h.is_empty()));
}

#[tokio::test]
async fn snapshot_and_history_fill_up() {
    let (_s, app, _d) = start();
    let mut snap = Value::Null;
    for _ in 0..50 {
        let (status, body) = call(&app, "GET", "/api/snapshot", None).await;
        if status == StatusCode::OK {
            snap = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(snap["cpu"]["status"], "available", "{snap}");
    let ts = snap["ts_ms"].as_i64().unwrap();
    let (status, status_body) = call(&app, "GET", "/api/status", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(status_body["db_path"].as_str().unwrap().ends_with("t.db"));

    let q = format!(r#"{{"series":["cpu.total"],"from_ms":{},"to_ms":{},"max_points":100}}"#, ts - 60_000, ts + 60_000);
    let (status, hist) = call(&app, "POST", "/api/history", Some(&q)).await;
    assert_eq!(status, StatusCode::OK, "{hist}");
    assert_eq!(hist[0]["series"], "cpu.total");
}

#[tokio::test]
async fn bad_requests_get_a_400_with_a_message() {
    let (_s, app, _d) = start();
    let (status, body) = call(&app, "POST", "/api/history", Some("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("malformed JSON"), "{body}");

    let (status, body) = call(&app, "POST", "/api/history", Some(r#"{"series":[]}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("from_ms"), "{body}");

    let q = r#"{"series":["cpu.total"],"from_ms":10,"to_ms":5,"max_points":100}"#;
    let (status, body) = call(&app, "POST", "/api/history", Some(q)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = call(&app, "GET", "/api/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let (_s, app, _d) = start();
    assert_eq!(call_as(&app, "GET", "/api/status", "attacker.example:7878", None).await.0, StatusCode::FORBIDDEN);
    let req = Request::builder()
        .uri("/api/status")
        .header(header::HOST, HOST)
        .header(header::ORIGIN, "http://attacker.example")
        .header(header::AUTHORIZATION, format!("Bearer {}", common::TOKEN))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.oneshot(req).await.unwrap().status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn refuses_to_listen_beyond_loopback() {
    let (steward, _app, _d) = start();
    let config = steward_server::ServerConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ui_dir: None,
        token: common::TOKEN.into(),
    };
    let err = steward_server::bind(steward, config).await.err().expect("must refuse");
    assert!(err.to_string().contains("loopback"));
}

/// Opening a second tab hides the first; closing the second must not leave the first, which
/// is in front again, sampled as if hidden (the visibility used to be one global flag).
#[tokio::test]
async fn a_hidden_or_closed_tab_never_slows_one_that_is_watching() {
    let (steward, _app, _dir) = start();
    let mode = |s: &Steward| s.status().sampling.mode;
    let mut first = steward.subscribe();
    let mut second = steward.subscribe();
    first.set_visible(false);
    assert_eq!(mode(&steward), SamplingMode::Active, "the second tab is watching");
    first.set_visible(true);
    second.set_visible(false); // the closing tab says it is hidden, then goes away
    drop(second);
    assert_eq!(mode(&steward), SamplingMode::Active, "the first tab is watching again");
    first.set_visible(false);
    assert_eq!(mode(&steward), SamplingMode::Hidden);
    drop(first);
    assert_eq!(mode(&steward), SamplingMode::Idle);
}
