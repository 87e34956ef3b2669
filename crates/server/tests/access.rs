//! Every kind of route needs the access token: reads, writes, work, the live WebSocket and the
//! UI; a browser gets in once through `/?token=…` (a cookie), and every answer carries the
//! security headers. The Host/Origin guard still comes first.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use common::{HOST, TOKEN};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// (method, path, body): one of each kind of route.
const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/status", ""),
    ("POST", "/api/history", r#"{"series":["cpu.total"],"from_ms":0,"to_ms":1,"max_points":10}"#),
    ("POST", "/resources/distributed", r#"{"command":["true"]}"#),
    ("POST", "/resources/energy", r#"{"operation":"journal"}"#),
    ("POST", "/resources/allocate", "{}"),
    ("POST", "/resources/accelerators", r#"{"operation":"map","tasks":[]}"#),
    ("DELETE", "/api/nodes/nowhere:1", ""),
    ("GET", "/api/live", ""),
    ("GET", "/", ""),
    ("GET", "/assets/app.js", ""),
];

fn app_with_ui() -> (Router, tempfile::TempDir) {
    let (steward, _, dir) = common::start();
    std::fs::create_dir_all(dir.path().join("ui/assets")).unwrap();
    std::fs::write(dir.path().join("ui/index.html"), "<!doctype html><p>the UI</p>").unwrap();
    std::fs::write(dir.path().join("ui/assets/app.js"), "console.log(1)").unwrap();
    (steward_server::router(steward, Some(dir.path().join("ui")), 7878, TOKEN), dir)
}

async fn send(app: &Router, method: &str, uri: &str, body: &str, headers: &[(header::HeaderName, &str)]) -> Answer {
    let mut req = Request::builder().method(method).uri(uri).header(header::HOST, HOST);
    if !body.is_empty() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    let res = app.clone().oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

fn assert_security_headers(a: &Answer, what: &str) {
    assert_eq!(a.headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(a.headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(a.headers["referrer-policy"], "no-referrer", "{what}");
    let csp = a.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{what}: {csp}");
}

#[tokio::test]
async fn every_kind_of_route_refuses_a_missing_or_wrong_credential() {
    let (app, _d) = app_with_ui();
    let wrong = format!("Bearer {}x", &TOKEN[1..]);
    let refusals: [(&str, Vec<(header::HeaderName, &str)>); 5] = [
        ("no credential", vec![]),
        ("wrong bearer token", vec![(header::AUTHORIZATION, wrong.as_str())]),
        ("the token without the Bearer scheme", vec![(header::AUTHORIZATION, TOKEN)]),
        ("a wrong cookie", vec![(header::COOKIE, "steward_token_7878=nope")]),
        ("another port's cookie", vec![(header::COOKIE, "steward_token_7879=server-test-token-0123456789abcdef")]),
    ];
    for (method, path, body) in ROUTES {
        for (why, headers) in &refusals {
            let a = send(&app, method, path, body, headers).await;
            let what = format!("{method} {path} with {why}");
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{what}: {}", a.body);
            assert!(a.body.contains("stewardctl url"), "{what} must say how to get in: {}", a.body);
            assert!(a.headers.contains_key(header::WWW_AUTHENTICATE), "{what}");
            assert_security_headers(&a, &what);
            if path.starts_with("/api") || path.starts_with("/resources") {
                let json: serde_json::Value = serde_json::from_str(&a.body).expect("API refusals are JSON");
                assert_eq!(json["kind"], "unauthorized", "{what}");
                assert!(json["message"].is_string(), "{what}");
            }
        }
    }
}

#[tokio::test]
async fn the_right_token_passes_as_a_bearer_header_or_a_cookie() {
    let (app, _d) = app_with_ui();
    let bearer = format!("Bearer {TOKEN}");
    let cookie = format!("other=1; steward_token_7878={TOKEN}");
    for (method, path, body) in ROUTES {
        for credential in [(header::AUTHORIZATION, bearer.as_str()), (header::COOKIE, cookie.as_str())] {
            let a = send(&app, method, path, body, std::slice::from_ref(&credential)).await;
            assert_ne!(a.status, StatusCode::UNAUTHORIZED, "{method} {path} with {:?}: {}", credential.0, a.body);
            assert_security_headers(&a, path);
        }
    }
    let page = send(&app, "GET", "/", "", &[(header::AUTHORIZATION, &bearer)]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("the UI"));
}

#[tokio::test]
async fn opening_the_printed_url_swaps_the_token_for_a_cookie() {
    let (app, _d) = app_with_ui();
    let a = send(&app, "GET", &format!("/?token={TOKEN}"), "", &[]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.headers[header::LOCATION], "/");
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with(&format!("steward_token_7878={TOKEN};")), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert_security_headers(&a, "the login redirect");
    // Other query parameters survive; a wrong token gets the page that says how to get in.
    let kept = send(&app, "GET", &format!("/index.html?x=1&token={TOKEN}"), "", &[]).await;
    assert_eq!(kept.headers[header::LOCATION], "/index.html?x=1");
    let wrong = send(&app, "GET", "/?token=not-the-token-0123456789", "", &[]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("<code>stewardctl url</code>") && !wrong.headers.contains_key(header::SET_COOKIE));
    // The API takes no token in its URL (it would end up in logs).
    let api = send(&app, "GET", &format!("/api/status?token={TOKEN}"), "", &[]).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_host_and_origin_guard_stays_in_front() {
    let (app, _d) = app_with_ui();
    let bearer = format!("Bearer {TOKEN}");
    let rebound = Request::builder()
        .uri("/api/status")
        .header(header::HOST, "attacker.example:7878")
        .header(header::AUTHORIZATION, &bearer)
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(rebound).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    let foreign = send(
        &app,
        "POST",
        "/resources/allocate",
        "{}",
        &[(header::ORIGIN, "http://evil.example"), (header::AUTHORIZATION, &bearer)],
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
}
