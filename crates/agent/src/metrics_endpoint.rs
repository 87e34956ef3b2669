//! `/metrics` of this node for Prometheus, on a port of its own (plain HTTP, not gRPC).
//!
//! Loopback by default and then open, like node_exporter: the figures are this machine's own,
//! readable by its users anyway. Off loopback it is what the gRPC port is: TLS with the agent's
//! certificate, and the agent's token on every scrape (`authorization: credentials_file`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use steward_core::credential::constant_time_eq;
use steward_prometheus::{Exposition, MetricsFormat, node_metrics, sampler_cost_metrics};
use steward_telemetry::CostMeter;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::AgentError;
use crate::metrics::LatestSnapshot;
use crate::tls::Identity;

/// Where `/metrics` listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsListen {
    Off,
    /// Asked for: not being able to listen there is an error.
    Required(SocketAddr),
    /// The default port: another agent on this machine may hold it, then there is no endpoint.
    IfFree(SocketAddr),
}

/// The default: the port after the agent's own.
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:7880";

/// What a scrape reads.
#[derive(Clone)]
pub(crate) struct Scrape {
    /// The `node` label: this machine's hostname.
    pub(crate) node: String,
    pub(crate) snapshot: LatestSnapshot,
    pub(crate) cost: CostMeter,
    /// Required off loopback.
    pub(crate) token: Option<Arc<str>>,
}

/// Binds the metrics listener as `listen` says; `Ok(None)` when there is none.
pub(crate) async fn bind(listen: MetricsListen, tls: bool) -> Result<Option<TcpListener>, AgentError> {
    let (addr, required) = match listen {
        MetricsListen::Off => return Ok(None),
        MetricsListen::Required(a) => (a, true),
        MetricsListen::IfFree(a) => (a, false),
    };
    if !addr.ip().is_loopback() && !tls {
        return Err(AgentError::Serve(format!(
            "refusing to serve metrics on {addr} without TLS: off loopback the agent always uses TLS (drop --no-tls)"
        )));
    }
    match TcpListener::bind(addr).await {
        Ok(l) => Ok(Some(l)),
        Err(e) if required => Err(AgentError::Serve(format!(
            "cannot listen for metrics on {addr}: {e} (choose another --metrics-listen, or --no-metrics)"
        ))),
        Err(e) => {
            tracing::warn!("no /metrics: cannot listen on {addr}: {e} (choose a port with --metrics-listen)");
            Ok(None)
        }
    }
}

/// Serves until the task is dropped: plain on loopback, TLS (and the token) elsewhere.
pub(crate) async fn serve(listener: TcpListener, mut scrape: Scrape, identity: Option<&Identity>, token: &str) {
    let addr = listener.local_addr().ok();
    let on_loopback = addr.is_some_and(|a| a.ip().is_loopback());
    scrape.token = (!on_loopback).then(|| token.into());
    let app = Router::new().route("/metrics", get(metrics)).with_state(scrape);
    let served = match (on_loopback, identity) {
        (true, _) => axum::serve(listener, app).await,
        (false, Some(id)) => match acceptor(id) {
            Ok(acceptor) => axum::serve(TlsListener { tcp: listener, acceptor }, app).await,
            Err(e) => return tracing::error!("no /metrics: {e}"),
        },
        (false, None) => return tracing::error!("no /metrics: TLS is required off loopback"),
    };
    if let Err(e) = served {
        tracing::error!("/metrics stopped: {e}");
    }
}

async fn metrics(State(s): State<Scrape>, headers: HeaderMap) -> Response {
    if let Some(token) = &s.token {
        let given = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
            let message = "metrics off loopback need the agent's token: `authorization: Bearer <token>` \
                           (Prometheus: authorization.credentials_file = <state dir>/token)\n";
            return (StatusCode::UNAUTHORIZED, [(WWW_AUTHENTICATE, "Bearer")], message).into_response();
        }
    }
    let format = MetricsFormat::from_accept(headers.get(ACCEPT).and_then(|v| v.to_str().ok()));
    let mut exp = Exposition::new();
    let snapshot = s.snapshot.borrow().clone();
    if let Some(snap) = snapshot {
        node_metrics(&mut exp, &s.node, &snap);
    }
    sampler_cost_metrics(&mut exp, &s.cost.read());
    ([(CONTENT_TYPE, format.content_type())], exp.encode(format)).into_response()
}

fn acceptor(id: &Identity) -> Result<TlsAcceptor, AgentError> {
    let bad = |e: String| AgentError::Certificate(format!("metrics TLS: {e}"));
    let cert = CertificateDer::from_pem_slice(id.cert_pem.as_bytes()).map_err(|e| bad(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).map_err(|e| bad(e.to_string()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| bad(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// TCP accepted and TLS handshaken; a client that does not finish its handshake in time is dropped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, addr) = match self.tcp.accept().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!("metrics accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => return (tls, addr),
                Ok(Err(e)) => tracing::debug!("metrics TLS handshake from {addr}: {e}"),
                Err(_) => tracing::debug!("metrics TLS handshake from {addr} timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
