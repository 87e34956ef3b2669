//! `/resources/profile` and the module routes over a real Steward (real sampler, real SQLite).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use steward_api::{ApiConfig, Steward};
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:7878";

fn start() -> (Steward, Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let steward = Steward::start(ApiConfig { db_path: dir.path().join("t.db"), ..ApiConfig::default() }).unwrap();
    let app = steward_server::router(steward.clone(), None, 7878);
    (steward, app, dir)
}

async fn call(app: &Router, method: &str, uri: &str, host: &str, body: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri).header(header::HOST, host);
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let res = app.clone().oneshot(req.body(Body::from(body.unwrap_or("").to_string())).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into())))
}

async fn post(app: &Router, uri: &str, body: &str) -> (StatusCode, Value) {
    call(app, "POST", uri, HOST, Some(body)).await
}

#[tokio::test]
async fn system_profile_right_after_start_says_history_is_lacking() {
    let (_s, app, _d) = start();
    let (status, body) = post(&app, "/resources/profile", r#"{"id":"req-1","profiling_type":"system"}"#).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request_id"], "req-1");
    assert_eq!(body["profiling_type"], "system");
    assert!(body["timestamp"].as_i64().unwrap() > 1_600_000_000_000);
    let result = &body["result"];
    for key in ["current_usage", "bottlenecks", "predictions", "optimization_suggestions"] {
        assert!(!result[key].is_null(), "missing {key}: {result}");
    }
    let predictions = result["predictions"].as_array().unwrap();
    assert!(predictions.iter().any(|p| p["series"] == "cpu.total"));
    for p in predictions {
        assert_eq!(p["forecast"]["status"], "insufficient_history", "{p}");
        assert!(p["forecast"]["need_ms"].as_i64().unwrap() > p["forecast"]["have_ms"].as_i64().unwrap());
        assert!(p["forecast"]["reason"].as_str().unwrap().contains("needs"));
    }

    // No id: one is generated; the same report is under /api for the UI.
    let (status, body) = post(&app, "/api/profile", r#"{"profiling_type":"system"}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn bad_profile_requests_are_4xx_with_a_message() {
    let (_s, app, _d) = start();
    for (body, want, says) in [
        ("{not json", StatusCode::BAD_REQUEST, "malformed JSON"),
        (r#"{"profiling_type":"gpu"}"#, StatusCode::BAD_REQUEST, "unknown variant"),
        (r#"{"id":"x"}"#, StatusCode::BAD_REQUEST, "profiling_type"),
        (r#"{"profiling_type":"module"}"#, StatusCode::BAD_REQUEST, "module_name"),
        (r#"{"profiling_type":"module","module_name":"nope"}"#, StatusCode::NOT_FOUND, "no module named"),
        (r#"{"profiling_type":"system","horizon_minutes":0}"#, StatusCode::BAD_REQUEST, "horizon_minutes"),
    ] {
        let (status, res) = post(&app, "/resources/profile", body).await;
        assert_eq!(status, want, "{body}: {res}");
        assert!(res["error"].as_str().unwrap().contains(says), "{body}: {res}");
    }
    // The Host guard covers /resources too.
    let (status, _) = call(&app, "POST", "/resources/profile", "evil.example:7878", Some(r#"{"profiling_type":"system"}"#)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn modules_are_saved_matched_and_profiled() {
    let (s, app, _d) = start();
    let spec = r#"{"name":"tests","matchers":[{"kind":"user","name":"nobody-here"},{"kind":"pids","pids":[1]}]}"#;
    let (status, body) = call(&app, "PUT", "/api/modules", HOST, Some(spec)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, bad) = call(&app, "PUT", "/api/modules", HOST, Some(r#"{"name":"a.b","matchers":[]}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let (_, list) = call(&app, "GET", "/api/modules", HOST, None).await;
    assert_eq!(list[0]["name"], "tests");

    let (status, body) = post(&app, "/resources/profile", r#"{"id":"m","profiling_type":"module","module_name":"tests"}"#).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r = &body["result"];
    assert_eq!(r["module_name"], "tests");
    assert_eq!(r["usage"]["name"], "tests");
    let series: Vec<&str> = r["predictions"].as_array().unwrap().iter().map(|p| p["series"].as_str().unwrap()).collect();
    assert!(series.contains(&"module.tests.cpu") && series.contains(&"module.tests.rss"), "{series:?}");

    // Module usage goes to history like everything else (a subscriber makes sampling 1 Hz).
    let _feed = s.subscribe();
    let found = async {
        for _ in 0..100 {
            if s.series_names("module.tests.".into()).await.unwrap().iter().any(|n| n == "module.tests.rss") {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    };
    assert!(found.await, "module.tests.rss never reached history");

    let (status, _) = call(&app, "DELETE", "/api/modules/tests", HOST, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(&app, "DELETE", "/api/modules/tests", HOST, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
