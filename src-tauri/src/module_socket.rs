//! The module API for this node, as `stewardctl serve` offers it: a Unix socket beside the
//! history database, behind the same access token (kept 0600 in the user's data directory), so
//! modules register with the desktop app as they do with the headless server.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use steward_api::{ModuleEndpoint, Steward, bind_module_socket};
use steward_server::serve_token;

/// Starts serving; returns the socket's path. Failing to bind is logged, not fatal: the window
/// is still useful without modules.
pub fn spawn(steward: &Steward, db_path: &Path) -> Result<PathBuf> {
    let token_file = serve_token::default_path();
    let (token, _) = serve_token::load_or_create(&token_file)
        .with_context(|| format!("cannot read or create the access token {}", token_file.display()))?;
    let socket = db_path.with_file_name("modules.sock");
    let endpoint = ModuleEndpoint::new(steward.module_hub());
    let path = socket.clone();
    tauri::async_runtime::spawn(async move {
        let served = match bind_module_socket(&path).await {
            Ok(bound) => bound.serve(endpoint, &token, std::future::pending()).await,
            Err(e) => Err(e),
        };
        if let Err(e) = served {
            tracing::warn!("modules cannot register with this window: {e}");
        }
    });
    tracing::info!("module socket {} (token {})", socket.display(), token_file.display());
    Ok(socket)
}
