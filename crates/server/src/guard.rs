//! DNS-rebinding and cross-site protection: a browser page from another site may make requests
//! to 127.0.0.1, so every request must name us in `Host`, and any `Origin` must be us too.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use steward_api::ErrorKind;

use crate::error::HttpError;

#[derive(Clone)]
pub struct AllowedHosts {
    hosts: Vec<String>,
}

impl AllowedHosts {
    /// The names a loopback server on `port` is reached by.
    pub fn loopback(port: u16) -> Self {
        let hosts = ["127.0.0.1", "localhost", "[::1]"].iter().map(|h| format!("{h}:{port}")).collect();
        AllowedHosts { hosts }
    }

    fn allows_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    fn allows_origin(&self, origin: &str) -> bool {
        origin.strip_prefix("http://").is_some_and(|host| self.allows_host(host))
    }
}

pub async fn check_host_and_origin(State(allowed): State<AllowedHosts>, request: Request, next: Next) -> Response {
    match verdict(&allowed, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(why) => HttpError::new(ErrorKind::Forbidden, why).into_response(),
    }
}

fn verdict(allowed: &AllowedHosts, headers: &HeaderMap) -> Result<(), String> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !allowed.allows_host(host) {
        return Err(format!("forbidden: unexpected Host header {host:?}"));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !allowed.allows_origin(origin) {
            return Err(format!("forbidden: cross-origin request from {origin:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn accepts_loopback_names_on_our_port() {
        let a = AllowedHosts::loopback(7878);
        assert!(verdict(&a, &headers("127.0.0.1:7878", None)).is_ok());
        assert!(verdict(&a, &headers("localhost:7878", Some("http://localhost:7878"))).is_ok());
        assert!(verdict(&a, &headers("[::1]:7878", None)).is_ok());
    }

    #[test]
    fn refuses_rebound_hosts_and_foreign_origins() {
        let a = AllowedHosts::loopback(7878);
        assert!(verdict(&a, &headers("evil.example:7878", None)).is_err());
        assert!(verdict(&a, &headers("127.0.0.1:9999", None)).is_err());
        assert!(verdict(&a, &headers("127.0.0.1:7878", Some("http://evil.example"))).is_err());
        assert!(verdict(&a, &headers("127.0.0.1:7878", Some("https://127.0.0.1:7878"))).is_err());
        assert!(verdict(&a, &HeaderMap::new()).is_err());
    }
}
