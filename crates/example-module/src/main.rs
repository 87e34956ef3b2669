//! `steward-example-module`: a module that registers with Steward and does real work in one of
//! four roles, each with a quality knob Steward can turn (README demo, system tests).
//!
//! It reports its own CPU and resident memory from procfs every interval, with its goodput
//! counter (frames, cache hits, decisions, samples trained), and follows directives: a quality
//! level at or above its minimal one, features off and on, pause and resume (refused by the
//! critical perception role: stopping it would blind the system).

mod knobs;
mod roles;
mod usage;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use steward_module::{Ack, Criticality, Directive, DirectiveOrder, Registration, Target, UsageReport};

use crate::knobs::Knobs;
use crate::roles::Role;
use crate::usage::SelfUsage;

#[derive(Parser)]
#[command(name = "steward-example-module", version, about = "An example Steward module doing real work")]
struct Args {
    #[arg(long, value_enum)]
    role: Role,
    /// The name it registers under (default: the role).
    #[arg(long)]
    name: Option<String>,
    /// The module socket of the control center or of `stewardd`.
    #[arg(long, env = "STEWARD_MODULE_SOCKET", conflicts_with = "address")]
    socket: Option<PathBuf>,
    /// A plain-text agent's `host:port` (loopback) instead of a socket.
    #[arg(long)]
    address: Option<String>,
    /// The file holding the token: the control center's access token or the agent's token.
    #[arg(long, env = "STEWARD_MODULE_TOKEN_FILE")]
    token_file: PathBuf,
    /// How often it reports, in ms.
    #[arg(long, default_value_t = 1000)]
    report_ms: u32,
    /// The memory role's full-quality cache, in MiB.
    #[arg(long, default_value_t = 64)]
    scale_mib: u64,
}

// mimalloc, as in every binary of the workspace.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let token = std::fs::read_to_string(&args.token_file)
        .with_context(|| format!("cannot read the token {}", args.token_file.display()))?
        .trim()
        .to_string();
    let target = match (&args.socket, &args.address) {
        (Some(path), _) => Target::Unix(path.clone()),
        (None, Some(address)) => Target::Tcp(address.clone()),
        (None, None) => anyhow::bail!("give --socket (or STEWARD_MODULE_SOCKET) or --address"),
    };
    let (declaration, mut workload) = args.role.build(args.scale_mib);
    let name = args.name.clone().unwrap_or_else(|| args.role.word().to_string());
    let registration = declaration.registration(name, args.role, args.report_ms);
    let knobs = Arc::new(Knobs::new(registration.features.iter().map(|f| f.name.clone())));
    let worker = {
        let knobs = knobs.clone();
        std::thread::spawn(move || {
            while !knobs.stopping() {
                if knobs.paused() {
                    std::thread::sleep(Duration::from_millis(50));
                } else {
                    let started = std::time::Instant::now();
                    knobs.count(workload.step(&knobs));
                    knobs.timed(started.elapsed());
                }
            }
        })
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(follow(target, token, registration, knobs.clone(), args.report_ms));
    knobs.stop();
    let _ = worker.join();
    Ok(())
}

/// Registers, reports and follows directives until SIGTERM or Ctrl-C, then deregisters.
async fn follow(target: Target, token: String, registration: Registration, knobs: Arc<Knobs>, report_ms: u32) {
    let (mut conn, mut directives) = steward_module::start(target, token, registration.clone());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let mut tick = tokio::time::interval(Duration::from_millis(report_ms.into()));
    let mut usage = SelfUsage::new();
    let mut announced = false;
    loop {
        tokio::select! {
            node = conn.registered(), if !announced => {
                println!("registered {} on node {node}", registration.name);
                announced = true;
            }
            _ = tick.tick() => conn.report(UsageReport {
                cpu_millis: usage.cpu_millis(),
                memory_bytes: usage.memory_bytes(),
                gpu_memory_bytes: None,
                healthy: true,
                quality_level: knobs.level(),
                features_on: knobs.features_on(),
                goodput_total: Some(knobs.done()),
                latency_ms: knobs.take_latency_ms(),
            }),
            Some(order) = directives.recv() => {
                let ack = apply(&registration, &knobs, &order);
                println!("directive {} {:?}: {:?}", order.id, order.directive, ack);
                conn.ack(order.id, ack);
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => break,
        }
    }
    conn.deregister().await;
}

fn apply(r: &Registration, knobs: &Knobs, order: &DirectiveOrder) -> Ack {
    let refuse = |reason: String| Ack::Refused { reason };
    match &order.directive {
        Directive::SetQuality { level } if *level > r.minimal_level => {
            refuse(format!("level {level} is below the minimal viable level {}", r.minimal_level))
        }
        Directive::SetQuality { level } => {
            knobs.set_level(*level);
            Ack::Applied
        }
        Directive::DisableFeature { name } | Directive::EnableFeature { name }
            if !r.features.iter().any(|f| &f.name == name) =>
        {
            refuse(format!("no feature {name:?}"))
        }
        Directive::DisableFeature { name } => {
            knobs.set_feature(name, false);
            Ack::Applied
        }
        Directive::EnableFeature { name } => {
            knobs.set_feature(name, true);
            Ack::Applied
        }
        Directive::Pause if r.criticality == Criticality::Critical => {
            refuse(format!("{} is critical: pausing it would stop the {}", r.name, r.role))
        }
        Directive::Pause => {
            knobs.set_paused(true);
            Ack::Applied
        }
        Directive::Resume => {
            knobs.set_paused(false);
            Ack::Applied
        }
    }
}
