//! What the server's integration tests share: a real Steward behind the router, and one request
//! helper that answers (status, JSON body — or the text as a JSON string when it is not JSON).

#![allow(dead_code)] // each test file uses its own part

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use steward_api::{ApiConfig, Steward};
use tower::ServiceExt;

pub const HOST: &str = "127.0.0.1:7878";
/// The access token of the test server; [`call`] sends it as a bearer token.
pub const TOKEN: &str = "server-test-token-0123456789abcdef";

/// A Steward on a temporary database (kept alive by the returned dir) and its router.
pub fn start() -> (Steward, Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let steward = Steward::start(ApiConfig { db_path: dir.path().join("t.db"), ..ApiConfig::default() }).unwrap();
    let app = steward_server::router(steward.clone(), None, 7878, TOKEN);
    (steward, app, dir)
}

/// One request as the browser would send it (Host is the server itself).
pub async fn call(app: &Router, method: &str, uri: &str, body: Option<&str>) -> (StatusCode, Value) {
    call_as(app, method, uri, HOST, body).await
}

/// One request with the given Host header.
pub async fn call_as(app: &Router, method: &str, uri: &str, host: &str, body: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, host)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let res = app.clone().oneshot(req.body(Body::from(body.unwrap_or("").to_string())).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into())))
}

pub async fn post(app: &Router, uri: &str, body: &str) -> (StatusCode, Value) {
    call(app, "POST", uri, Some(body)).await
}

/// Makes `ids` nodes of the cluster as the executor sees it (no agents behind them), so
/// datasets may name them.
pub fn offline_nodes(steward: &Steward, ids: impl IntoIterator<Item = String>) {
    use steward_api::{DispatchNode, Liveness, StaticNodes};
    let nodes = ids
        .into_iter()
        .map(|id| DispatchNode {
            liveness: Liveness::Down,
            client: None,
            resources: steward_core::alloc::NodeResources {
                node: id.clone(),
                cores: 1,
                memory_bytes: 1 << 30,
                labels: Default::default(),
                gpus: vec![],
                accelerators: vec![],
            },
            id,
        })
        .collect();
    steward.set_dispatch_nodes(std::sync::Arc::new(StaticNodes(std::sync::RwLock::new(nodes))));
}
