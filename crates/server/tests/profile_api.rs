//! `/resources/profile` and the module routes over a real Steward (real sampler, real SQLite).

mod common;

use axum::http::StatusCode;
use common::{call, call_as, post, start};

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
        (
            r#"{"profiling_type":"gpu"}"#,
            StatusCode::BAD_REQUEST,
            "profiling_type: must be one of \"system\", \"module\" (got \"gpu\")",
        ),
        (r#"{"id":"x"}"#, StatusCode::BAD_REQUEST, "profiling_type"),
        (r#"{"profiling_type":"module"}"#, StatusCode::BAD_REQUEST, "module_name"),
        (r#"{"profiling_type":"module","module_name":"nope"}"#, StatusCode::NOT_FOUND, "no module named"),
        (r#"{"profiling_type":"system","horizon_minutes":0}"#, StatusCode::BAD_REQUEST, "horizon_minutes"),
    ] {
        let (status, res) = post(&app, "/resources/profile", body).await;
        assert_eq!(status, want, "{body}: {res}");
        assert!(res["message"].as_str().unwrap().contains(says), "{body}: {res}");
    }
    // The Host guard covers /resources too.
    let (status, _) =
        call_as(&app, "POST", "/resources/profile", "evil.example:7878", Some(r#"{"profiling_type":"system"}"#)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn modules_are_saved_matched_and_profiled() {
    let (s, app, _d) = start();
    let spec = r#"{"name":"tests","matchers":[{"kind":"user","name":"nobody-here"},{"kind":"pids","pids":[1]}]}"#;
    let (status, body) = call(&app, "PUT", "/api/modules", Some(spec)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, bad) = call(&app, "PUT", "/api/modules", Some(r#"{"name":"a.b","matchers":[]}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let (_, list) = call(&app, "GET", "/api/modules", None).await;
    assert_eq!(list[0]["name"], "tests");

    let (status, body) =
        post(&app, "/resources/profile", r#"{"id":"m","profiling_type":"module","module_name":"tests"}"#).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r = &body["result"];
    assert_eq!(r["module_name"], "tests");
    assert_eq!(r["usage"]["name"], "tests");
    let series: Vec<&str> =
        r["predictions"].as_array().unwrap().iter().map(|p| p["series"].as_str().unwrap()).collect();
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

    let (status, _) = call(&app, "DELETE", "/api/modules/tests", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(&app, "DELETE", "/api/modules/tests", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn a_deep_profile_of_a_module_runs_and_ends_by_itself() {
    let (_s, app, _d) = start();
    let pid = std::process::id();
    let spec = format!(r#"{{"name":"me","matchers":[{{"kind":"pids","pids":[{pid}]}}]}}"#);
    assert_eq!(call(&app, "PUT", "/api/modules", Some(&spec)).await.0, StatusCode::OK);
    let (status, body) = post(&app, "/api/modules/me/deep-profile", r#"{"duration_s":301}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("300"));
    let (status, _) = post(&app, "/api/modules/nope/deep-profile", r#"{"duration_s":1}"#).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        call(&app, "GET", "/api/modules/me/deep-profile", None).await,
        (StatusCode::OK, serde_json::Value::Null)
    );
    let (status, body) = post(&app, "/api/modules/me/deep-profile", r#"{"duration_s":1,"interval_ms":100}"#).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["state"], "running");
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let (status, body) = call(&app, "GET", "/api/modules/me/deep-profile", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["state"].as_str(), body["remaining_ms"].as_i64()), (Some("finished"), Some(0)), "{body}");
    // This test process runs several threads (the runtime's, the sampler's): each is listed.
    assert!(body["threads"].as_array().unwrap().len() >= 2, "{body}");
}
