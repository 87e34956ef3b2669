//! The module API on a Unix socket: the way modules on the same machine reach Steward without a
//! port. The socket file is 0600 and every call still needs the token (another local user
//! is an outsider either way).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use steward_proto::module::module_service_server::ModuleServiceServer;
use tokio::net::UnixListener;
use tonic::transport::Server;

use super::ModuleEndpoint;
use crate::AgentError;
use crate::auth::CheckToken;

/// A bound module socket, ready to serve.
pub struct ModuleSocket {
    pub path: PathBuf,
    listener: UnixListener,
}

/// Binds `path` (0600), replacing a stale socket file but refusing one another process serves.
pub async fn bind(path: &Path) -> Result<ModuleSocket, AgentError> {
    let fail = |why: String| AgentError::Serve(format!("module socket {}: {why}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    if path.exists() {
        if tokio::net::UnixStream::connect(path).await.is_ok() {
            return Err(fail("another process serves it (is Steward already running?)".into()));
        }
        std::fs::remove_file(path).map_err(|e| fail(format!("cannot remove the stale socket: {e}")))?;
    }
    let listener = UnixListener::bind(path).map_err(|e| fail(e.to_string()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| fail(e.to_string()))?;
    Ok(ModuleSocket { path: path.to_owned(), listener })
}

impl ModuleSocket {
    /// Serves `endpoint` to callers holding `token` until `shutdown`, then removes the file.
    pub async fn serve(
        self,
        endpoint: ModuleEndpoint,
        token: &str,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), AgentError> {
        let check = CheckToken::new(token).map_err(|e| AgentError::WeakToken(e.to_string()))?;
        let incoming = tokio_stream::wrappers::UnixListenerStream::new(self.listener);
        let served = Server::builder()
            .add_service(ModuleServiceServer::with_interceptor(endpoint, check))
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
            .map_err(|e| AgentError::Serve(format!("module socket {}: {e}", self.path.display())));
        let _ = std::fs::remove_file(&self.path);
        served
    }
}
