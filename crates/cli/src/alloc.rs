//! `stewardctl allocate | reserve | queue | cancel`: the allocation API of a running Steward
//! (`stewardctl serve` or the desktop app's server), the same calls the UI makes.

use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};

pub(crate) use crate::http::{Target, call};

#[derive(Args)]
pub struct AllocateArgs {
    #[command(flatten)]
    target: Target,
    /// Idempotency key: retrying with the same id returns the first answer.
    #[arg(long)]
    id: Option<String>,
    #[arg(long, env = "USER", default_value = "unknown")]
    owner: String,
    #[arg(long, default_value_t = 0)]
    gpus: u32,
    /// Per GPU, for a share of one GPU by memory (with --gpus 1).
    #[arg(long)]
    gpu_memory_gib: Option<f64>,
    #[arg(long, default_value_t = 1)]
    cores: u32,
    #[arg(long, default_value_t = 1.0)]
    memory_gib: f64,
    /// critical, high, normal, low, scavenger, or an integer.
    #[arg(long, default_value = "normal")]
    priority: String,
    /// guaranteed, burstable or best_effort.
    #[arg(long, default_value = "burstable")]
    qos: String,
    /// Seconds; omitted = open end.
    #[arg(long)]
    duration_s: Option<u64>,
    #[arg(long)]
    reservation: Option<String>,
    #[arg(long)]
    node: Option<String>,
    /// requeue, suspend or cancel, after `--grace-s`.
    #[arg(long, default_value = "requeue")]
    preemption: String,
    #[arg(long, default_value_t = 0)]
    grace_s: u64,
    /// Refuse instead of queueing when it cannot start now.
    #[arg(long)]
    no_queue: bool,
}

#[derive(Args)]
pub struct ReserveArgs {
    #[command(flatten)]
    target: Target,
    #[arg(long)]
    id: Option<String>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long, env = "USER", default_value = "unknown")]
    owner: String,
    #[arg(long)]
    node: String,
    /// GPU ids, e.g. `host/gpu0,host/gpu1`.
    #[arg(long, value_delimiter = ',')]
    gpus: Vec<String>,
    #[arg(long, default_value_t = 0)]
    cores: u32,
    #[arg(long, default_value_t = 0.0)]
    memory_gib: f64,
    /// RFC 3339, e.g. 2025-06-02T09:00:00+02:00.
    #[arg(long)]
    start: String,
    #[arg(long)]
    end: String,
    /// daily or weekly (keeps its wall-clock time in --tz across DST).
    #[arg(long)]
    repeat: Option<String>,
    #[arg(long, default_value = "UTC")]
    tz: String,
    #[arg(long)]
    until: Option<String>,
    #[arg(long)]
    overlap: bool,
    #[arg(long)]
    ignore_running: bool,
}

#[derive(Args)]
pub struct QueueArgs {
    #[command(flatten)]
    target: Target,
    /// Include finished and cancelled allocations.
    #[arg(long)]
    all: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct CancelArgs {
    #[command(flatten)]
    target: Target,
    /// Allocation id (or reservation id with --reservation).
    id: String,
    #[arg(long)]
    reservation: bool,
}

fn gib(g: f64) -> u64 {
    (g * (1u64 << 30) as f64) as u64
}

/// Prints the answer; a refusal exits non-zero.
fn report(answer: Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(&answer)?);
    if answer["result"]["success"] == false {
        bail!("not granted: {}", answer["result"]["error"].as_str().unwrap_or("?"));
    }
    Ok(())
}

pub fn allocate(a: AllocateArgs) -> Result<()> {
    let priority: Value = a.priority.parse::<i64>().map(Value::from).unwrap_or_else(|_| a.priority.clone().into());
    let mut req = json!({
        "owner": a.owner,
        "resources": {"gpus": a.gpus, "cores": a.cores, "memory_bytes": gib(a.memory_gib)},
        "priority": priority,
        "qos": a.qos,
        "preemption": {"mode": a.preemption, "grace_s": a.grace_s},
        "queue": !a.no_queue,
    });
    if let Some(g) = a.gpu_memory_gib {
        req["resources"]["gpu_memory_bytes"] = gib(g).into();
    }
    for (key, v) in [("id", a.id), ("reservation", a.reservation)] {
        if let Some(v) = v {
            req[key] = v.into();
        }
    }
    if let Some(d) = a.duration_s {
        req["duration_s"] = d.into();
    }
    if let Some(n) = a.node {
        req["constraints"] = json!({"node": n});
    }
    let (_, answer) = call(
        &a.target,
        "POST",
        "/resources/allocate",
        Some(json!({"allocation_type": "allocate", "allocation_request": req})),
    )?;
    report(answer)
}

pub fn reserve(a: ReserveArgs) -> Result<()> {
    let mut req = json!({
        "owner": a.owner, "node": a.node, "gpus": a.gpus, "cores": a.cores, "memory_bytes": gib(a.memory_gib),
        "start_time": a.start, "end_time": a.end,
        "flags": {"overlap": a.overlap, "ignore_running": a.ignore_running},
    });
    for (key, v) in [("id", a.id), ("name", a.name)] {
        if let Some(v) = v {
            req[key] = v.into();
        }
    }
    if let Some(freq) = a.repeat {
        req["recurrence"] = json!({"freq": freq, "tz": a.tz, "until": a.until});
    }
    let (_, answer) = call(
        &a.target,
        "POST",
        "/resources/allocate",
        Some(json!({"allocation_type": "reserve", "reservation_request": req})),
    )?;
    report(answer)
}

pub fn queue(a: QueueArgs) -> Result<()> {
    let (_, list) = call(&a.target, "GET", "/api/allocations", None)?;
    let items: Vec<&Value> = list
        .as_array()
        .map(|v| v.iter().filter(|x| a.all || !matches!(x["state"].as_str(), Some("finished" | "cancelled"))).collect())
        .unwrap_or_default();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    println!("{:<24} {:<10} {:>8} {:<11} {:<12} {:<20} REASON", "ID", "STATE", "PRIORITY", "QOS", "OWNER", "WHERE");
    for x in items {
        let place = match x["node"].as_str() {
            Some(n) => format!("{n} {}g {}c", x["gpus"].as_array().map_or(0, Vec::len), x["cores"]),
            None => "-".into(),
        };
        println!(
            "{:<24} {:<10} {:>8} {:<11} {:<12} {:<20} {}",
            x["id"].as_str().unwrap_or(""),
            x["state"].as_str().unwrap_or(""),
            x["priority"],
            x["qos"].as_str().unwrap_or(""),
            x["owner"].as_str().unwrap_or(""),
            place,
            x["pending_reason"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

pub fn cancel(a: CancelArgs) -> Result<()> {
    let path = if a.reservation { format!("/api/reservations/{}", a.id) } else { format!("/api/allocations/{}", a.id) };
    call(&a.target, "DELETE", &path, None)?;
    println!("cancelled {}", a.id);
    Ok(())
}
