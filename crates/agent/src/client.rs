//! The control center's side of the node protocol: dial an agent by address, token and pinned
//! certificate fingerprint, then call it. Cheap to clone (one HTTP/2 connection underneath).

use std::time::Duration;

use hyper_util::rt::TokioIo;
use steward_core::Inventory;
use steward_core::power::{DeviceSettings, Knob, Measurement};
use steward_proto::agent::agent_client;
use steward_proto::agent::*;
use steward_telemetry::power_control::ControlError;
use tokio_rustls::rustls::pki_types::ServerName;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::AgentError;
use crate::auth::AddToken;
use crate::tls::{SERVER_NAME, pinned_client_config};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct AgentClient {
    grpc: agent_client::AgentClient<InterceptedService<Channel, AddToken>>,
    address: String,
    plain_text: bool,
    /// What dialled it, to dial again from another runtime ([`AgentClient::redial_here`]).
    dial: Dial,
    /// Which `connect` it comes from (kept by redials): a new one means new address, token or pin.
    origin: u64,
}

#[derive(Clone)]
struct Dial {
    endpoint: Endpoint,
    token: AddToken,
    fingerprint: Option<String>,
}

/// What `Inventory` answers, decoded.
#[derive(Debug, Clone)]
pub struct AgentInventory {
    pub inventory: Inventory,
    pub labels: std::collections::BTreeMap<String, String>,
    pub agent_version: String,
    pub limits_mechanism: String,
    /// The agent's own id (empty from an agent built before it had one).
    pub node_id: String,
}

/// True when every address `address` resolves to is a loopback one.
pub async fn is_loopback(address: &str) -> Result<bool, AgentError> {
    let addrs: Vec<_> =
        tokio::net::lookup_host(address).await.map_err(|_| AgentError::BadAddress(address.to_string()))?.collect();
    Ok(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()))
}

/// TCP, then TLS accepting only the certificate with `fingerprint`.
fn pinned_connector(
    address: &str,
    fingerprint: &str,
) -> impl tower::Service<
    tonic::transport::Uri,
    Response = TokioIo<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
    Error = std::io::Error,
    Future: Send,
> + Clone
+ Send
+ 'static {
    let config = pinned_client_config(fingerprint);
    let target = address.to_string();
    tower::service_fn(move |_: tonic::transport::Uri| {
        let (config, target) = (config.clone(), target.clone());
        async move {
            let tcp = tokio::net::TcpStream::connect(&target).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from(SERVER_NAME).expect("static server name");
            let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await?;
            Ok::<_, std::io::Error>(TokioIo::new(tls))
        }
    })
}

impl AgentClient {
    /// Connects to the agent at `address` (`host:port`). With a fingerprint the connection is
    /// TLS and only that certificate is accepted; without one it is plain text, which is
    /// allowed on loopback only. The token is checked by the agent on the first call.
    pub async fn connect(address: &str, token: &str, fingerprint: Option<&str>) -> Result<AgentClient, AgentError> {
        let endpoint = Endpoint::from_shared(format!("http://{address}"))
            .map_err(|_| AgentError::BadAddress(address.to_string()))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5));
        let unreachable = |e: tonic::transport::Error| classify_transport(address, fingerprint, &e);
        let fingerprint = fingerprint.filter(|f| !f.is_empty());
        let channel = match fingerprint {
            Some(fp) => endpoint.connect_with_connector(pinned_connector(address, fp)).await.map_err(unreachable)?,
            None => {
                if !is_loopback(address).await? {
                    return Err(AgentError::FingerprintRequired(address.to_string()));
                }
                endpoint.connect().await.map_err(unreachable)?
            }
        };
        let dial = Dial { endpoint, token: AddToken::new(token)?, fingerprint: fingerprint.map(str::to_string) };
        static CONNECTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Ok(Self::over(channel, address, dial, CONNECTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)))
    }

    /// What listens at `address`, trusting nothing: a TLS agent's certificate fingerprint, or
    /// `None` for a plain-text agent (`stewardd --no-tls`, loopback only), recognised by a call
    /// it answers, refusing the probe's made-up token, where a TLS handshake failed.
    pub async fn probe(address: &str) -> Result<Option<String>, AgentError> {
        let tls_failed = match crate::tls::probe_fingerprint(address).await {
            Ok(fingerprint) => return Ok(Some(fingerprint)),
            Err(e) => e,
        };
        if !is_loopback(address).await.unwrap_or(false) {
            return Err(tls_failed);
        }
        let answered = match AgentClient::connect(address, "probe", None).await {
            Ok(c) => matches!(c.inventory().await, Ok(_) | Err(AgentError::Unauthenticated { .. })),
            Err(_) => false,
        };
        if answered { Ok(None) } else { Err(tls_failed) }
    }

    fn over(channel: Channel, address: &str, dial: Dial, origin: u64) -> AgentClient {
        let grpc = agent_client::AgentClient::with_interceptor(channel, dial.token.clone())
            .max_decoding_message_size(64 << 20);
        AgentClient { grpc, address: address.to_string(), plain_text: dial.fingerprint.is_none(), dial, origin }
    }

    /// Identifies the `connect` this client (or the client it was redialled from) came from.
    pub fn origin(&self) -> u64 {
        self.origin
    }

    /// A second connection to the same agent, owned by the runtime this is called on (it must
    /// be called inside one): a busy caller on another runtime than the one that dialled avoids
    /// hopping between runtimes on every call. It connects on first use and reconnects by
    /// itself; the address, token and pin were checked when this client connected.
    pub fn redial_here(&self) -> AgentClient {
        let channel = match &self.dial.fingerprint {
            Some(fp) => self.dial.endpoint.connect_with_connector_lazy(pinned_connector(&self.address, fp)),
            None => self.dial.endpoint.connect_lazy(),
        };
        Self::over(channel, &self.address, self.dial.clone(), self.origin)
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    fn status(&self, s: tonic::Status) -> AgentError {
        let lost = matches!(
            s.code(),
            tonic::Code::Cancelled | tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Internal
        );
        match classify_status(&self.address, s) {
            // A TLS agent hangs up on plain text without a word; say the likely reason.
            AgentError::Rpc { .. } | AgentError::Unreachable { .. } if self.plain_text && lost => AgentError::Unreachable {
                address: self.address.clone(),
                reason: "the connection closed without an answer: the agent probably requires TLS — give its certificate fingerprint".into(),
            },
            e => e,
        }
    }

    pub async fn inventory(&self) -> Result<AgentInventory, AgentError> {
        let reply = self.grpc.clone().inventory(InventoryRequest {}).await.map_err(|s| self.status(s))?.into_inner();
        let inventory = serde_json::from_slice(&reply.inventory_json).map_err(|e| AgentError::Decode(e.to_string()))?;
        Ok(AgentInventory {
            inventory,
            labels: reply.labels.into_iter().collect(),
            agent_version: reply.agent_version,
            limits_mechanism: reply.limits_mechanism,
            node_id: reply.node_id,
        })
    }

    /// Heartbeats every `heartbeat_ms` with a snapshot (JSON of `steward_core::Snapshot`)
    /// every `interval_ms`; decode with [`decode_snapshot`].
    pub async fn stream_metrics(
        &self,
        interval_ms: u32,
        heartbeat_ms: u32,
    ) -> Result<tonic::Streaming<MetricsEvent>, AgentError> {
        let req = StreamMetricsRequest { interval_ms, heartbeat_ms };
        Ok(self.grpc.clone().stream_metrics(req).await.map_err(|s| self.status(s))?.into_inner())
    }

    pub async fn run_task(&self, spec: TaskSpec) -> Result<TaskStatus, AgentError> {
        Self::status_of(self.start_task(spec).await?)
    }

    /// Starts a task; the whole answer (with its lines when it ended within `wait_ms`).
    pub async fn start_task(&self, spec: TaskSpec) -> Result<RunTaskReply, AgentError> {
        Ok(self.grpc.clone().run_task(spec).await.map_err(|s| self.status(s))?.into_inner())
    }

    /// Starts many tasks in one round trip.
    pub async fn run_tasks(&self, tasks: Vec<TaskSpec>) -> Result<Vec<RunTaskReply>, AgentError> {
        Ok(self
            .grpc
            .clone()
            .run_tasks(RunTasksRequest { tasks })
            .await
            .map_err(|s| self.status(s))?
            .into_inner()
            .replies)
    }

    fn status_of(reply: RunTaskReply) -> Result<TaskStatus, AgentError> {
        reply.status.ok_or_else(|| AgentError::Decode("RunTask answered without a status".into()))
    }

    /// The task's status and log lines from `from_line` on, then every change until it ends.
    pub async fn watch_task(&self, task_id: &str, from_line: u64) -> Result<tonic::Streaming<TaskEvent>, AgentError> {
        let req = WatchTaskRequest { task_id: task_id.to_string(), from_line };
        Ok(self.grpc.clone().watch_task(req).await.map_err(|s| self.status(s))?.into_inner())
    }

    pub async fn cancel_task(&self, task_id: &str) -> Result<TaskStatus, AgentError> {
        let req = CancelTaskRequest { task_id: task_id.to_string() };
        Ok(self.grpc.clone().cancel_task(req).await.map_err(|s| self.status(s))?.into_inner())
    }

    pub async fn list_tasks(&self) -> Result<Vec<TaskStatus>, AgentError> {
        Ok(self.grpc.clone().list_tasks(ListTasksRequest {}).await.map_err(|s| self.status(s))?.into_inner().tasks)
    }

    /// The modules registered on the agent, then every change (`ModuleEvent`).
    pub async fn watch_modules(&self) -> Result<tonic::Streaming<ModuleEvent>, AgentError> {
        Ok(self.grpc.clone().watch_modules(WatchModulesRequest {}).await.map_err(|s| self.status(s))?.into_inner())
    }

    /// Hands a numbered directive to a module registered on the agent.
    pub async fn direct_module(
        &self,
        module: &str,
        order: &steward_core::registration::DirectiveOrder,
    ) -> Result<(), AgentError> {
        let order_json = serde_json::to_vec(order).map_err(|e| AgentError::Decode(e.to_string()))?;
        let req = DirectModuleRequest { module: module.to_string(), order_json };
        self.grpc.clone().direct_module(req).await.map_err(|s| self.status(s))?;
        Ok(())
    }

    /// The node's GPUs and cpufreq policies with their power knobs.
    pub async fn power_settings(&self) -> Result<Vec<DeviceSettings>, AgentError> {
        let reply = self.grpc.clone().power_settings(PowerSettingsRequest {}).await.map_err(|s| self.status(s))?;
        serde_json::from_slice(&reply.into_inner().devices_json).map_err(|e| AgentError::Decode(e.to_string()))
    }

    /// Sets one knob on the node (or checks that it could): the outer error is the call's, the
    /// inner the node's answer.
    pub async fn set_power(
        &self,
        device: &str,
        knob: Knob,
        value: &str,
        dry_run: bool,
    ) -> Result<Result<(), ControlError>, AgentError> {
        let req = SetPowerRequest { device: device.into(), knob: knob.as_str().into(), value: value.into(), dry_run };
        let r = self.grpc.clone().set_power(req).await.map_err(|s| self.status(s))?.into_inner();
        Ok(control_result(r.outcome, r.detail, r.would))
    }

    /// A GPU's average power and throughput over `duration_ms`, measured on the node.
    pub async fn measure_power(
        &self,
        device: &str,
        duration_ms: u32,
    ) -> Result<Result<Measurement, ControlError>, AgentError> {
        let req = MeasurePowerRequest { device: device.into(), duration_ms };
        let r = self.grpc.clone().measure_power(req).await.map_err(|s| self.status(s))?.into_inner();
        let m = Measurement { throughput: r.throughput, power_w: r.power_w, seconds: r.seconds };
        Ok(control_result(r.outcome, r.detail, String::new()).map(|()| m))
    }
}

/// The node's answer as the local power control would have given it.
fn control_result(outcome: i32, detail: String, would: String) -> Result<(), ControlError> {
    match PowerOutcome::try_from(outcome) {
        Ok(PowerOutcome::Applied) => Ok(()),
        Ok(PowerOutcome::Denied) => Err(ControlError::Denied { would, reason: detail }),
        Ok(PowerOutcome::Refused) => Err(ControlError::Refused(detail)),
        Ok(PowerOutcome::Unavailable) | Err(_) => Err(ControlError::Unavailable(detail)),
    }
}

pub fn decode_snapshot(event: &MetricsEvent) -> Option<Result<steward_core::Snapshot, AgentError>> {
    (!event.snapshot_json.is_empty())
        .then(|| serde_json::from_slice(&event.snapshot_json).map_err(|e| AgentError::Decode(e.to_string())))
}

/// Maps a gRPC status to what the user should read, keeping a pin mismatch recognizable.
pub fn classify_status(address: &str, s: tonic::Status) -> AgentError {
    let chain = error_chain(&s);
    if let Some(e) = mismatch(address, &chain) {
        return e;
    }
    match s.code() {
        tonic::Code::Unauthenticated => {
            AgentError::Unauthenticated { address: address.to_string(), message: s.message().to_string() }
        }
        tonic::Code::Unavailable | tonic::Code::Unknown if !chain.is_empty() => {
            AgentError::Unreachable { address: address.to_string(), reason: chain }
        }
        code => AgentError::Rpc { code, message: s.message().to_string() },
    }
}

fn classify_transport(address: &str, fingerprint: Option<&str>, e: &tonic::transport::Error) -> AgentError {
    let chain = error_chain(e);
    if let Some(m) = mismatch(address, &chain) {
        return m;
    }
    let hint = if fingerprint.is_some() && chain.contains("InvalidContentType") || chain.contains("corrupt message") {
        " (is the agent running without TLS?)"
    } else {
        ""
    };
    AgentError::Unreachable { address: address.to_string(), reason: format!("{chain}{hint}") }
}

fn mismatch(address: &str, chain: &str) -> Option<AgentError> {
    let rest = &chain[chain.find("fingerprint mismatch: expected ")? + "fingerprint mismatch: expected ".len()..];
    let (expected, rest) = rest.split_once(", got ")?;
    let actual: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == ':').collect();
    Some(AgentError::FingerprintMismatch { address: address.to_string(), expected: expected.to_string(), actual })
}

/// "outer: inner: innermost" — tonic's own messages alone ("transport error") say too little.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
