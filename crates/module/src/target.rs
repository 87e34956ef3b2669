//! Where a module finds Steward: a Unix socket (the control center's or `stewardd`'s
//! `modules.sock`) or a TCP address (an agent's port, plain text on loopback).

use std::path::PathBuf;

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::ModuleError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Unix(PathBuf),
    /// `host:port` of a plain-text agent (`stewardd --no-tls`, loopback only).
    Tcp(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
            Target::Tcp(a) => write!(f, "{a}"),
        }
    }
}

impl Target {
    pub(crate) async fn channel(&self) -> Result<Channel, ModuleError> {
        let unreachable = |reason: String| ModuleError::Unreachable { target: self.to_string(), reason };
        match self {
            Target::Tcp(address) => Endpoint::from_shared(format!("http://{address}"))
                .map_err(|e| unreachable(e.to_string()))?
                .connect()
                .await
                .map_err(|e| unreachable(chain(&e))),
            Target::Unix(path) => {
                let path = path.clone();
                // The URI is not used: every connection goes to the socket.
                Endpoint::from_static("http://localhost")
                    .connect_with_connector(tower::service_fn(move |_: Uri| {
                        let path = path.clone();
                        async move { Ok::<_, std::io::Error>(TokioIo::new(tokio::net::UnixStream::connect(path).await?)) }
                    }))
                    .await
                    .map_err(|e| unreachable(chain(&e)))
            }
        }
    }
}

/// An error with its causes, which say what actually failed (refused, no such file).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out = format!("{out}: {s}");
        source = s.source();
    }
    out
}
