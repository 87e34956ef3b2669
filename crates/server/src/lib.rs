//! The HTTP front door: the same operations as the desktop app, as JSON over HTTP, a WebSocket
//! for live data, and the UI itself — all over [`steward_api::Steward`].
//!
//! It binds loopback only: anything reachable from elsewhere needs a token and TLS, which this
//! server does not offer yet, so non-loopback addresses are refused rather than exposed.

mod error;
mod guard;
mod json_errors;
mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use steward_api::Steward;
use tower_http::services::{ServeDir, ServeFile};

pub use error::ServeError;

/// The largest request body accepted on any route (413 beyond it).
pub const BODY_LIMIT_BYTES: usize = 2 * 1024 * 1024;

/// Where to listen and what to serve.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The built UI (`ui/dist`); `None` serves the API alone.
    pub ui_dir: Option<PathBuf>,
}

/// The whole application: API under `/api`, the UI at `/`, the Host/Origin guard around both.
pub fn router(steward: Steward, ui_dir: Option<PathBuf>, allowed_port: u16) -> Router {
    let mut app = Router::new()
        .nest("/api", routes::api())
        .merge(routes::resources())
        .layer(axum::middleware::from_fn(json_errors::json_errors))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(steward);
    if let Some(dir) = ui_dir {
        let index = dir.join("index.html");
        app = app.fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)));
    }
    app.layer(axum::middleware::from_fn_with_state(
        guard::AllowedHosts::loopback(allowed_port),
        guard::check_host_and_origin,
    ))
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
    let app = router(steward, config.ui_dir, addr.port());
    Ok(Bound { addr, listener, app })
}

impl Bound {
    /// Serves until `shutdown` resolves.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        axum::serve(self.listener, self.app).with_graceful_shutdown(shutdown).await.map_err(ServeError::Serve)
    }
}
