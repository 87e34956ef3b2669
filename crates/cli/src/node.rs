//! `stewardctl node add|remove|drain|list`: the cluster of a running Steward, as the cluster
//! view manages it.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::alloc::{Target, call};
use crate::http::{Access, ListArgs};

#[derive(Subcommand)]
pub enum NodeCommand {
    /// Add a node by the address, token and fingerprint `stewardd` printed on its first start.
    /// Without --fingerprint, shows the certificate the agent presents and stops, so you can
    /// compare it before trusting it (as SSH does).
    Add(AddArgs),
    /// Forget a node (its running tasks are left alone).
    Remove(IdArgs),
    /// Take no new work on a node (running work finishes); --undo takes it back.
    Drain(DrainArgs),
    /// Every node with its state.
    List(ListArgs),
}

#[derive(Args)]
pub struct AddArgs {
    /// The running Steward to ask.
    #[arg(long, env = "STEWARD_URL", default_value = "http://127.0.0.1:7878")]
    url: String,
    /// The access token of the running Steward (default: read from --token-file). Here
    /// `--token` is the agent's, as everywhere a node is added.
    #[arg(long, env = "STEWARD_TOKEN", hide_env_values = true)]
    steward_token: Option<String>,
    /// The file `stewardctl serve` keeps its access token in (default:
    /// <platform data dir>/steward/serve-token).
    #[arg(long, env = "STEWARD_TOKEN_FILE")]
    token_file: Option<std::path::PathBuf>,
    /// host:port of the agent.
    address: String,
    /// The token stewardd printed on its first start (also in its `<state dir>/token`).
    #[arg(long, env = "STEWARDD_TOKEN", hide_env_values = true)]
    token: String,
    /// The certificate fingerprint stewardd printed (sha256:...).
    #[arg(long)]
    fingerprint: Option<String>,
    /// The agent runs with --no-tls on loopback: no certificate to pin.
    #[arg(long, conflicts_with = "fingerprint")]
    plain_text: bool,
}

#[derive(Args)]
pub struct IdArgs {
    #[command(flatten)]
    target: Target,
    /// The node's id (its address).
    id: String,
}

#[derive(Args)]
pub struct DrainArgs {
    #[command(flatten)]
    target: Target,
    /// The node's id (its address).
    id: String,
    /// Take the node back: it accepts new work again.
    #[arg(long)]
    undo: bool,
}

pub fn run(cmd: NodeCommand) -> Result<()> {
    match cmd {
        NodeCommand::Add(a) => add(a),
        NodeCommand::Remove(a) => {
            call(&a.target, "DELETE", &format!("/api/nodes/{}", a.id), None)?;
            println!("removed {}", a.id);
            Ok(())
        }
        NodeCommand::Drain(a) => {
            let verb = if a.undo { "undrain" } else { "drain" };
            let (_, node) = call(&a.target, "POST", &format!("/api/nodes/{}/{verb}", a.id), Some(json!({})))?;
            println!("{} is {}", a.id, node["state"].as_str().unwrap_or("?"));
            Ok(())
        }
        NodeCommand::List(a) => list(a),
    }
}

impl AddArgs {
    /// The Steward to ask, as every other subcommand names it.
    fn target(&self) -> Target {
        let access = Access { token: self.steward_token.clone(), token_file: self.token_file.clone() };
        Target { url: self.url.clone(), access }
    }
}

fn add(a: AddArgs) -> Result<()> {
    let target = a.target();
    let fingerprint = match (a.fingerprint, a.plain_text) {
        (Some(f), _) => Some(f),
        (None, true) => None,
        (None, false) => {
            let (_, probe) = call(&target, "POST", "/api/nodes/probe", Some(json!({"address": a.address})))?;
            let fp = probe["fingerprint"].as_str().unwrap_or("?");
            bail!(
                "the agent at {} presents certificate {fp}\ncheck that it is the fingerprint stewardd printed on that machine, then run again with --fingerprint {fp}",
                a.address
            );
        }
    };
    let (_, node) = call(
        &target,
        "POST",
        "/api/nodes",
        Some(json!({"address": a.address, "token": a.token, "fingerprint": fingerprint})),
    )?;
    println!(
        "added {} ({}), {}",
        node["id"].as_str().unwrap_or(""),
        node["name"].as_str().unwrap_or(""),
        node["state"].as_str().unwrap_or("")
    );
    Ok(())
}

fn list(a: ListArgs) -> Result<()> {
    let (_, nodes) = call(&a.target, "GET", "/api/nodes", None)?;
    if a.wants_json() {
        println!("{}", serde_json::to_string_pretty(&nodes)?);
        return Ok(());
    }
    println!("{:<22} {:<9} {:<20} {:>5} {:>9} {:>6}  ERROR", "ID", "STATE", "NAME", "CORES", "MEMORY", "PHI");
    for n in nodes.as_array().into_iter().flatten() {
        let inv = &n["inventory"];
        let mem = inv["memory_total_bytes"]
            .as_f64()
            .map(|b| format!("{:.1} GiB", b / (1u64 << 30) as f64))
            .unwrap_or_else(|| "-".into());
        let phi = n["phi"].as_f64().map(|p| format!("{p:.2}")).unwrap_or_else(|| "-".into());
        println!(
            "{:<22} {:<9} {:<20} {:>5} {:>9} {:>6}  {}",
            n["id"].as_str().unwrap_or(""),
            n["state"].as_str().unwrap_or(""),
            n["name"].as_str().unwrap_or(""),
            inv["logical_cores"].as_u64().map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
            mem,
            phi,
            n["error"].as_str().unwrap_or(""),
        );
    }
    Ok(())
}
