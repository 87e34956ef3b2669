//! `/metrics` for Prometheus: behind the credential, negotiated by `Accept`, accepted by
//! `promtool check metrics`, and honest: a source that is off has no sample at all.

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{HOST, TOKEN};
use http_body_util::BodyExt;
use steward_api::{ApiConfig, Steward};
use steward_prometheus::promtool::promtool_check;
use tower::ServiceExt;

fn start() -> (Steward, Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ApiConfig { db_path: dir.path().join("t.db"), ..ApiConfig::default() };
    // No GPU collector: its readings must then be absent, not 0.
    config.sampler.gpus = false;
    let steward = Steward::start(config).unwrap();
    let app = steward_server::router(steward.clone(), None, 7878, TOKEN);
    (steward, app, dir)
}

async fn scrape(app: &Router, accept: Option<&str>, credential: bool) -> (StatusCode, String, String) {
    let mut req = Request::builder().uri("/metrics").header(header::HOST, HOST);
    if credential {
        req = req.header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    }
    if let Some(a) = accept {
        req = req.header(header::ACCEPT, a);
    }
    let res = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let content_type =
        res.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn metrics_are_negotiated_pass_promtool_and_leave_out_what_is_unavailable() {
    let (steward, app, _dir) = start();
    let deadline = Instant::now() + Duration::from_secs(10);
    while steward.snapshot().is_none_or(|s| s.cpu.value().is_none()) {
        assert!(Instant::now() < deadline, "no CPU sample within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (status, content_type, text) = scrape(&app, None, true).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    for expected in [
        "steward_node_up{node=\"local\"} 1.0\n",
        "steward_node_cpu_utilization_ratio{node=\"local\"} ",
        "steward_node_memory_total_bytes{node=\"local\"} ",
        "steward_node_network_receive_bytes_total{node=\"local\",device=\"lo\"} ",
        "steward_sampler_collector_runs_total{collector=\"cpu\"} ",
        "steward_sampler_collector_seconds_total{collector=\"cpu\"} ",
        "steward_scheduler_queued_allocations 0.0\n",
        "steward_scheduler_decisions_total{decision=\"placed\"} 0.0\n",
        "steward_dispatch_attempts_started_total 0.0\n",
        "steward_forecast_refits_total 0.0\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("steward_node_gpu"), "GPUs were not collected, so no GPU sample:\n{text}");
    promtool_check(&text).unwrap_or_else(|e| panic!("promtool check metrics: {e}\n{text}"));

    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,\
                      text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (status, content_type, om) = scrape(&app, Some(prometheus), true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("application/openmetrics-text; version=1.0.0"), "{content_type}");
    assert!(om.contains("# UNIT steward_node_cpu_utilization_ratio ratio\n"), "{om}");
    assert!(om.ends_with("# EOF\n"), "{om}");

    let (status, _, body) = scrape(&app, None, false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "/metrics needs the token like every route: {body}");
}
