//! Starting the agent: state directory (token, certificate), inventory, sampler, and the gRPC
//! server with token checks on every call and TLS unless on loopback and asked not to.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use steward_core::credential::{WeakToken, check_token_strength};
use steward_proto::agent::InventoryReply;
use steward_proto::agent::agent_server::AgentServer;
use steward_proto::module::module_service_server::ModuleServiceServer;
use steward_telemetry::SamplerConfig;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::auth::{CheckToken, generate_token};
use crate::limits::Cgroups;
use crate::metrics_endpoint::{MetricsListen, Scrape};
use crate::module_api::socket::ModuleSocket;
use crate::module_api::{LocalModules, ModuleEndpoint};
use crate::service::AgentService;
use crate::tasks::Tasks;
use crate::{AgentError, tls};

#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub listen: SocketAddr,
    /// Token, certificate and task checkpoints live here.
    pub state_dir: PathBuf,
    /// Plain text instead of TLS: refused off loopback.
    pub plain_text: bool,
    /// A fixed token instead of the one generated on first start.
    pub token: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub sampler: SamplerConfig,
    /// Enumerate graphics adapters in a child running this executable (which must serve the
    /// probe first thing in `main`); `None` skips them.
    pub adapter_probe: Option<PathBuf>,
    /// Root for cgroup detection (tests point it at a fixture tree).
    pub cgroup_root: PathBuf,
    /// Where `/metrics` listens (off unless asked for; `stewardd` asks for 127.0.0.1:7880).
    pub metrics_listen: MetricsListen,
    /// The module API's Unix socket (default `<state>/modules.sock`); `None`: TCP only.
    pub module_socket: Option<PathBuf>,
    /// Accelerators no driver reports (TPU, FPGA, NPU), reported in the inventory.
    pub accelerators: Vec<steward_core::accel::AcceleratorSpec>,
}

impl AgentConfig {
    pub fn new(listen: SocketAddr, state_dir: PathBuf) -> Self {
        AgentConfig {
            listen,
            state_dir: state_dir.clone(),
            plain_text: false,
            token: None,
            labels: BTreeMap::new(),
            sampler: SamplerConfig::from_env(),
            adapter_probe: None,
            cgroup_root: "/".into(),
            metrics_listen: MetricsListen::Off,
            module_socket: Some(state_dir.join("modules.sock")),
            accelerators: Vec::new(),
        }
    }
}

/// A bound agent, ready to serve.
pub struct Bound {
    pub addr: SocketAddr,
    pub token: String,
    /// `None` when serving plain text.
    pub fingerprint: Option<String>,
    /// This agent's id, generated on its first start (`<state>/node-id`).
    pub node_id: String,
    /// True when the token or the certificate were created by this start.
    pub first_start: bool,
    pub limits_mechanism: &'static str,
    /// Where `/metrics` is served; `None` when it is off or its default port was taken.
    pub metrics_addr: Option<SocketAddr>,
    listener: tokio::net::TcpListener,
    metrics: Option<(tokio::net::TcpListener, Scrape)>,
    module_socket: Option<ModuleSocket>,
    service: AgentService,
    identity: Option<tls::Identity>,
}

pub async fn bind(config: AgentConfig) -> Result<Bound, AgentError> {
    if config.plain_text && !config.listen.ip().is_loopback() {
        return Err(AgentError::PlainTextOffLoopback(config.listen));
    }
    let state = |source| AgentError::State { path: config.state_dir.clone(), source };
    std::fs::create_dir_all(&config.state_dir).map_err(state)?;
    let (token, new_token) = load_or_create_token(&config)?;
    let node_id = load_or_create_node_id(&config)?;
    let (identity, new_cert) = if config.plain_text {
        (None, false)
    } else {
        let (id, new) = tls::load_or_generate(&config.state_dir)?;
        (Some(id), new)
    };
    let cgroups = Cgroups::detect(&config.cgroup_root);
    let limits_mechanism = cgroups.mechanism().as_str();
    let mut inventory = steward_telemetry::inventory(&config.sampler, false);
    inventory.adapters = match &config.adapter_probe {
        Some(exe) => steward_telemetry::adapter_probe::enumerate_adapters_in_child(exe),
        None => steward_core::Reading::unavailable("adapter enumeration is turned off"),
    };
    let hostname = inventory.hostname.clone();
    inventory.accelerators = config.accelerators.clone();
    let inventory = InventoryReply {
        inventory_json: serde_json::to_vec(&inventory).map_err(|e| AgentError::Serve(e.to_string()))?,
        labels: config.labels.clone().into_iter().collect(),
        agent_version: env!("CARGO_PKG_VERSION").to_string(),
        limits_mechanism: limits_mechanism.to_string(),
        node_id: node_id.clone(),
    };
    let tasks = Tasks::new(config.state_dir.clone(), cgroups);
    let sampling = crate::metrics::start(config.sampler.clone());
    let metrics_listener = crate::metrics_endpoint::bind(config.metrics_listen, !config.plain_text).await?;
    let metrics_addr = metrics_listener.as_ref().and_then(|l| l.local_addr().ok());
    let scrape = Scrape { node: hostname, snapshot: sampling.snapshot, cost: sampling.cost, token: None };
    let power = Arc::new(steward_telemetry::power_control::PowerControl::new(
        config.sampler.root.clone(),
        config.sampler.nvml_lib.as_deref(),
    ));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| AgentError::Serve(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener.local_addr().map_err(|e| AgentError::Serve(e.to_string()))?;
    let module_socket = match &config.module_socket {
        Some(path) => Some(crate::module_api::socket::bind(path).await?),
        None => None,
    };
    let modules = Arc::new(LocalModules::new(node_id.clone()));
    Ok(Bound {
        addr,
        token,
        fingerprint: identity.as_ref().map(|i| i.fingerprint.clone()),
        node_id,
        first_start: new_token || new_cert,
        limits_mechanism,
        metrics_addr,
        listener,
        metrics: metrics_listener.map(|l| (l, scrape)),
        module_socket,
        service: AgentService { tasks, inventory, latest: sampling.latest, modules, power },
        identity,
    })
}

/// The given token, the one in `<state>/token`, or a new one; a weak one is refused, saying
/// where it came from (an empty `--token ""` or `STEWARDD_TOKEN=` included).
fn load_or_create_token(config: &AgentConfig) -> Result<(String, bool), AgentError> {
    let state = |source| AgentError::State { path: config.state_dir.clone(), source };
    let weak = |from: String| move |e: WeakToken| AgentError::WeakToken(format!("{from}: {e}"));
    if let Some(t) = &config.token {
        check_token_strength(t).map_err(weak("--token / STEWARDD_TOKEN".into()))?;
        return Ok((t.clone(), false));
    }
    let path = config.state_dir.join("token");
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => {
            let t = t.trim().to_string();
            check_token_strength(&t)
                .map_err(weak(format!("{} (delete it to have a new one generated)", path.display())))?;
            Ok((t, false))
        }
        _ => {
            let t = generate_token().map_err(state)?;
            tls::write_private(&path, &t).map_err(state)?;
            Ok((t, true))
        }
    }
}

/// `<state>/node-id`, created (0600) on the first start: 16 random bytes in hex.
fn load_or_create_node_id(config: &AgentConfig) -> Result<String, AgentError> {
    let state = |source| AgentError::State { path: config.state_dir.clone(), source };
    let path = config.state_dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_string()),
        _ => {
            let id = generate_token().map_err(state)?[..32].to_string();
            tls::write_private(&path, &id).map_err(state)?;
            Ok(id)
        }
    }
}

impl Bound {
    /// Serves until `shutdown` resolves, then stops the tasks still running. Running tasks
    /// belong to the agent, not to a caller: a control center that disconnects (or restarts)
    /// finds them when it comes back.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), AgentError> {
        let tasks = self.tasks();
        let mut builder =
            Server::builder().tcp_nodelay(true).http2_keepalive_interval(Some(std::time::Duration::from_secs(10)));
        if let Some(id) = &self.identity {
            builder = builder
                .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(&id.cert_pem, &id.key_pem)))
                .map_err(|e| AgentError::Serve(format!("TLS: {e}")))?;
        }
        let incoming = TcpIncoming::from(self.listener).with_nodelay(Some(true));
        let check = CheckToken::new(&self.token).map_err(|e| AgentError::WeakToken(e.to_string()))?;
        // Dropped (and so stopped) when serving ends.
        let _metrics = self.metrics.map(|(listener, scrape)| {
            let (identity, token) = (self.identity.clone(), self.token.clone());
            AbortOnDrop(tokio::spawn(async move {
                crate::metrics_endpoint::serve(listener, scrape, identity.as_ref(), &token).await;
            }))
        });
        let endpoint = ModuleEndpoint::new(self.service.modules.clone());
        let modules = ModuleServiceServer::with_interceptor(endpoint.clone(), check.clone());
        let service = AgentServer::with_interceptor(self.service, check);
        // Metrics streams never end by themselves: after the shutdown signal, calls get a
        // moment to finish and then the connections are dropped.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        if let Some(socket) = self.module_socket {
            let (token, mut stopped) = (self.token.clone(), stopped.clone());
            tokio::spawn(async move {
                let until = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                if let Err(e) = socket.serve(endpoint, &token, until).await {
                    tracing::error!("{e}");
                }
            });
        }
        let mut stopped = stopped;
        let server =
            builder.add_service(service).add_service(modules).serve_with_incoming_shutdown(incoming, async move {
                let _ = stopped.wait_for(|s| *s).await;
            });
        tokio::pin!(server);
        tokio::select! {
            r = &mut server => return r.map_err(|e| AgentError::Serve(e.to_string())),
            _ = shutdown => {}
        }
        let _ = stop.send(true);
        let served = match tokio::time::timeout(std::time::Duration::from_secs(2), server).await {
            Ok(r) => r.map_err(|e| AgentError::Serve(e.to_string())),
            Err(_) => Ok(()),
        };
        // A cancelled task gets its grace between SIGTERM and SIGKILL, and a moment more.
        tasks.stop_all(crate::runner::KILL_GRACE + std::time::Duration::from_secs(2)).await;
        served
    }

    /// Where modules on this node reach the module API without a port.
    pub fn module_socket(&self) -> Option<&std::path::Path> {
        self.module_socket.as_ref().map(|s| s.path.as_path())
    }

    pub fn tasks(&self) -> Arc<Tasks> {
        self.service.tasks.clone()
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
