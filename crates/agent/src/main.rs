//! `stewardd`: the Steward node agent.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use steward_agent::metrics_endpoint::DEFAULT_METRICS_LISTEN;
use steward_agent::{AgentConfig, MetricsListen};
use steward_telemetry::Backend;

#[derive(Parser)]
#[command(name = "stewardd", version, about = "Steward node agent: inventory, metrics and tasks over gRPC")]
struct Args {
    /// Address to listen on. Loopback unless told otherwise; off loopback TLS is always on.
    #[arg(long, env = "STEWARDD_LISTEN", default_value = "127.0.0.1:7879")]
    listen: SocketAddr,
    /// Token, certificate and checkpoints (default: the platform data directory).
    #[arg(long, env = "STEWARDD_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// Serve plain text (loopback only).
    #[arg(long)]
    no_tls: bool,
    /// Use this token instead of the generated one.
    #[arg(long, env = "STEWARDD_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Labels reported in the inventory, e.g. `--label rack=a --label gpu=a100`.
    #[arg(long = "label", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// Accelerators no driver reports (TPU, FPGA, NPU, other GPUs): a JSON array of specs as
    /// `POST /resources/accelerators` registers them (their `node` is this agent's).
    #[arg(long, env = "STEWARDD_ACCELERATORS")]
    accelerators: Option<PathBuf>,
    /// Do not enumerate graphics adapters.
    #[arg(long)]
    no_adapters: bool,
    /// Where to serve `/metrics` for Prometheus [default: 127.0.0.1:7880, skipped with a warning
    /// when taken]. Off loopback it is TLS with the agent's certificate and needs the token.
    #[arg(long, env = "STEWARDD_METRICS_LISTEN", conflicts_with = "no_metrics")]
    metrics_listen: Option<SocketAddr>,
    /// Serve no `/metrics`.
    #[arg(long)]
    no_metrics: bool,
    /// Where telemetry is read from: procfs (Linux's /proc and /sys, the most detail) or portable
    /// (sysinfo; the default where /proc is absent).
    #[arg(long, env = "STEWARDD_TELEMETRY", value_parser = Backend::parse)]
    telemetry: Option<Backend>,
    /// The module API's Unix socket (default: <state dir>/modules.sock).
    #[arg(long, env = "STEWARDD_MODULE_SOCKET")]
    module_socket: Option<PathBuf>,
    /// Log as JSON lines.
    #[arg(long, env = "STEWARD_LOG_JSON")]
    log_json: bool,
}

fn metrics_listen(asked: Option<SocketAddr>, off: bool) -> MetricsListen {
    match (asked, off) {
        (_, true) => MetricsListen::Off,
        (Some(a), false) => MetricsListen::Required(a),
        (None, false) => MetricsListen::IfFree(DEFAULT_METRICS_LISTEN.parse().expect("a valid address")),
    }
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected key=value, got {s:?}"))
}

// mimalloc, as in every binary (ARCHITECTURE.md, Invariants).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    steward_telemetry::adapter_probe::serve_adapter_probe_if_asked();
    let args = Args::parse();
    init_logging(args.log_json);
    let state_dir = args.state_dir.unwrap_or_else(|| dirs::data_dir().unwrap_or_else(|| ".".into()).join("stewardd"));
    let mut config = AgentConfig::new(args.listen, state_dir.clone());
    config.plain_text = args.no_tls;
    config.token = args.token;
    config.labels = args.labels.into_iter().collect();
    if let Some(path) = args.module_socket {
        config.module_socket = Some(path);
    }
    if let Some(path) = &args.accelerators {
        config.accelerators = read_accelerators(path)?;
    }
    config.adapter_probe = if args.no_adapters { None } else { std::env::current_exe().ok() };
    config.metrics_listen = metrics_listen(args.metrics_listen, args.no_metrics);
    if let Some(backend) = args.telemetry {
        config.sampler.backend = backend;
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let bound = steward_agent::bind(config).await?;
        // Tests and scripts read these lines; the token and fingerprint are what a user types
        // into "add node" (the token is also in <state dir>/token, readable by this user only).
        println!("stewardd listening on {}", bound.addr);
        if bound.first_start {
            println!("token: {}", bound.token);
        } else {
            println!("token: (in {})", state_dir.join("token").display());
        }
        match &bound.fingerprint {
            Some(fp) => println!("fingerprint: {fp}"),
            None => println!("fingerprint: none (plain text, loopback only)"),
        }
        println!("limits: {}", bound.limits_mechanism);
        println!("node id: {}", bound.node_id);
        match bound.metrics_addr {
            Some(a) if a.ip().is_loopback() => println!("metrics: http://{a}/metrics"),
            Some(a) => println!("metrics: https://{a}/metrics (token required)"),
            None if args.no_metrics => println!("metrics: off"),
            None => println!("metrics: not served (its port is taken; choose one with --metrics-listen)"),
        }
        if let Some(path) = bound.module_socket() {
            println!("module socket: {}", path.display());
        }
        bound.serve(shutdown_signal()).await?;
        anyhow::Ok(())
    })
}

/// The accelerators file, every wrong field named (the agent does not start with a bad one).
fn read_accelerators(path: &std::path::Path) -> Result<Vec<steward_core::accel::AcceleratorSpec>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let specs: Vec<steward_core::accel::AcceleratorSpec> =
        serde_json::from_str(&text).with_context(|| format!("{}: not a JSON array of accelerators", path.display()))?;
    let problems: Vec<String> = specs
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.validate(&format!("[{i}]")))
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    if !problems.is_empty() {
        anyhow::bail!("{}: {}", path.display(), problems.join("; "));
    }
    Ok(specs)
}

fn init_logging(json: bool) {
    // STEWARD_LOG as in every Steward binary; RUST_LOG still works for those used to it.
    let filter = tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json { builder.json().init() } else { builder.init() }
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}
