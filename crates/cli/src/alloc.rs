//! `stewardctl allocate | reserve | queue | cancel`: the allocation API of a running Steward
//! (`stewardctl serve` or the desktop app's server), the same calls the UI makes.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

pub(crate) use crate::http::{ListArgs, Target, call};

#[derive(Args)]
pub struct AllocateArgs {
    #[command(flatten)]
    target: Target,
    /// Idempotency key: retrying with the same id returns the first answer.
    #[arg(long)]
    id: Option<String>,
    /// Who asks: quotas and fair share count per owner.
    #[arg(long, env = "USER", default_value = "unknown")]
    owner: String,
    /// Whole GPUs.
    #[arg(long, default_value_t = 0)]
    gpus: u32,
    /// Per GPU, for a share of one GPU by memory (with --gpus 1).
    #[arg(long)]
    gpu_memory_gib: Option<f64>,
    /// CPU cores.
    #[arg(long, default_value_t = 1)]
    cores: u32,
    /// Memory in GiB.
    #[arg(long, default_value_t = 1.0)]
    memory_gib: f64,
    /// A class (critical, high, normal, low, scavenger) or an integer priority.
    #[arg(long, default_value = "normal", value_parser = parse_priority)]
    priority: String,
    /// What the allocation is promised.
    #[arg(long, value_enum, default_value_t = Qos::Burstable)]
    qos: Qos,
    /// Seconds; omitted = open end.
    #[arg(long)]
    duration_s: Option<u64>,
    /// Run inside this reservation (its owner's, by id).
    #[arg(long)]
    reservation: Option<String>,
    /// Run on this node only (as `stewardctl node list` names it).
    #[arg(long)]
    node: Option<String>,
    /// What happens when a higher priority needs the resources (after `--grace-s`).
    #[arg(long, value_enum, default_value_t = Preemption::Requeue)]
    preemption: Preemption,
    /// Seconds between the preemption notice and the preemption.
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
    /// Idempotency key: retrying with the same id returns the first answer.
    #[arg(long)]
    id: Option<String>,
    /// A name shown in the calendar.
    #[arg(long)]
    name: Option<String>,
    /// Who reserves: only this owner's allocations may use the reservation.
    #[arg(long, env = "USER", default_value = "unknown")]
    owner: String,
    /// The node to reserve on (as `stewardctl node list` names it).
    #[arg(long)]
    node: String,
    /// GPU ids, e.g. `host/gpu0,host/gpu1`.
    #[arg(long, value_delimiter = ',')]
    gpus: Vec<String>,
    /// CPU cores.
    #[arg(long, default_value_t = 0)]
    cores: u32,
    /// Memory in GiB.
    #[arg(long, default_value_t = 0.0)]
    memory_gib: f64,
    /// RFC 3339, e.g. 2025-06-02T09:00:00+02:00.
    #[arg(long)]
    start: String,
    /// RFC 3339, after --start.
    #[arg(long)]
    end: String,
    /// Repeat the window (keeps its wall-clock time in --tz across DST).
    #[arg(long, value_enum)]
    repeat: Option<Repeat>,
    /// IANA time zone of a repeating reservation, e.g. Europe/Paris.
    #[arg(long, default_value = "UTC")]
    tz: String,
    /// RFC 3339: no occurrence starts after it (default: repeats forever).
    #[arg(long)]
    until: Option<String>,
    /// Allow overlapping another reservation of the same resources.
    #[arg(long)]
    overlap: bool,
    /// Reserve even though running allocations hold the resources (they are evicted at the start).
    #[arg(long)]
    ignore_running: bool,
}

#[derive(Args)]
pub struct QueueArgs {
    #[command(flatten)]
    list: ListArgs,
    /// Include finished and cancelled allocations.
    #[arg(long)]
    all: bool,
}

#[derive(Args)]
pub struct CancelArgs {
    #[command(flatten)]
    target: Target,
    /// Allocation id (or reservation id with --reservation).
    id: String,
    /// The id is a reservation's: delete the reservation.
    #[arg(long)]
    reservation: bool,
}

/// Quality of service, as the allocation API names it.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Qos {
    /// Holds what it asked for; never shrunk.
    Guaranteed,
    /// May be shrunk to its minimum when others need room.
    Burstable,
    /// Runs on what is idle; first to go.
    BestEffort,
}

/// What preemption does to a running allocation.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preemption {
    /// Stop it and queue it again.
    Requeue,
    /// Stop it and queue it to resume later.
    Suspend,
    /// End it.
    Cancel,
}

/// How a reservation repeats.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Repeat {
    Daily,
    Weekly,
}

/// The API's name of a value-enum value (`best_effort`, `requeue`, `daily`).
pub(crate) fn api_name(v: impl ValueEnum) -> String {
    v.to_possible_value().map(|p| p.get_name().to_string()).unwrap_or_default()
}

/// A priority class name or an integer; anything else is refused listing what is accepted.
pub(crate) fn parse_priority(s: &str) -> Result<String, String> {
    const CLASSES: [&str; 5] = ["critical", "high", "normal", "low", "scavenger"];
    if CLASSES.contains(&s) || s.parse::<i32>().is_ok() {
        Ok(s.to_string())
    } else {
        Err(format!("expected one of {} or an integer", CLASSES.join(", ")))
    }
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
        "qos": api_name(a.qos),
        "preemption": {"mode": api_name(a.preemption), "grace_s": a.grace_s},
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
        req["recurrence"] = json!({"freq": api_name(freq), "tz": a.tz, "until": a.until});
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
    let (_, list) = call(&a.list.target, "GET", "/api/allocations", None)?;
    let items: Vec<&Value> = list
        .as_array()
        .map(|v| v.iter().filter(|x| a.all || !matches!(x["state"].as_str(), Some("finished" | "cancelled"))).collect())
        .unwrap_or_default();
    if a.list.wants_json() {
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
