//! The HTTP front door: the same operations as the desktop app, as JSON over HTTP, a WebSocket
//! for live data, and the UI itself — all over [`steward_api::Steward`].
//!
//! It binds loopback only (no TLS yet, so non-loopback addresses are refused rather than
//! exposed), and even there every request needs the per-install access token: other local users
//! are outsiders.

mod access;
mod error;
mod guard;
mod headers;
mod json_errors;
mod routes;
pub mod serve_token;

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use steward_api::Steward;
use tower_http::services::{ServeDir, ServeFile};

pub use access::Credential;
pub use error::ServeError;
pub use headers::CONTENT_SECURITY_POLICY;

/// The largest request body accepted on any route (413 beyond it).
pub const BODY_LIMIT_BYTES: usize = 2 * 1024 * 1024;

/// Where to listen and what to serve.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The built UI (`ui/dist`); `None` serves the API alone.
    pub ui_dir: Option<PathBuf>,
    /// The access token every request must carry (see [`serve_token`]).
    pub token: String,
}

/// The whole application: API under `/api`, the UI at `/`; around both, from the outside in:
/// security headers, the Host/Origin guard, the credential check. Errors inside are the one JSON
/// shape, bodies are limited to [`BODY_LIMIT_BYTES`].
pub fn router(steward: Steward, ui_dir: Option<PathBuf>, allowed_port: u16, token: &str) -> Router {
    let mut app = Router::new()
        .nest("/api", routes::api())
        .merge(routes::resources())
        .merge(routes::metrics())
        .layer(axum::middleware::from_fn(json_errors::json_errors))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(steward);
    if let Some(dir) = ui_dir {
        let index = dir.join("index.html");
        app = app.fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)));
    }
    app.layer(axum::middleware::from_fn_with_state(Credential::new(token, allowed_port), access::require_credential))
        .layer(axum::middleware::from_fn_with_state(
            guard::AllowedHosts::loopback(allowed_port),
            guard::check_host_and_origin,
        ))
        .layer(axum::middleware::from_fn(headers::add_security_headers))
}

/// A server bound to its socket, ready to run; `addr` is the real port when 0 was asked for.
pub struct Bound {
    pub addr: SocketAddr,
    listener: tokio::net::TcpListener,
    app: Router,
}

/// Binds the listener (loopback only) and builds the app.
pub async fn bind(steward: Steward, config: ServerConfig) -> Result<Bound, ServeError> {
    if !config.listen.ip().is_loopback() {
        return Err(ServeError::NotLoopback(config.listen));
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind { addr: config.listen, source })?;
    let app = router(steward, config.ui_dir, addr.port(), &config.token);
    Ok(Bound { addr, listener, app })
}

impl Bound {
    /// Serves until `shutdown` resolves.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        axum::serve(self.listener, self.app).with_graceful_shutdown(shutdown).await.map_err(ServeError::Serve)
    }
}
