//! `stewardctl degradation status|override|release|history`: graceful degradation of a running
//! Steward through `POST /resources/degradation`, as the Degradation view does it.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::http::{ListArgs, Target, call};

#[derive(Subcommand)]
pub enum DegradationCommand {
    /// Every registered module with its commanded and reported quality, the constraints in
    /// force with their evidence, the steps in force and the overrides.
    Status(ListArgs),
    /// Force a module's quality level, keep features on, or exempt it from every policy.
    Override(OverrideArgs),
    /// Give a module back to the policies.
    Release(ReleaseArgs),
    /// The timeline: constraints started and ended, steps taken and given back, overrides.
    History(HistoryArgs),
}

#[derive(Args)]
pub struct OverrideArgs {
    #[command(flatten)]
    target: Target,
    /// The registered module to override.
    module: String,
    /// The quality level to force (0 = full quality).
    #[arg(long)]
    level: Option<u32>,
    /// A feature to keep on (repeatable).
    #[arg(long = "pin")]
    pin: Vec<String>,
    /// No policy touches the module.
    #[arg(long)]
    exempt: bool,
    /// Why (shown with the override and in the history).
    #[arg(long, default_value = "")]
    reason: String,
    /// Who sets it (shown with the override).
    #[arg(long, env = "USER", default_value = "stewardctl")]
    by: String,
}

#[derive(Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    target: Target,
    /// The module to give back to the policies.
    module: String,
    /// Who releases it (shown in the history).
    #[arg(long, env = "USER", default_value = "stewardctl")]
    by: String,
}

#[derive(Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    target: Target,
    /// Only events at or after this time (ms since the epoch).
    #[arg(long, default_value_t = 0)]
    since_ms: i64,
    /// The most events to show, newest last.
    #[arg(long, default_value_t = 200)]
    limit: usize,
}

pub fn run(cmd: DegradationCommand) -> Result<()> {
    match cmd {
        DegradationCommand::Status(a) => {
            let r = ask(&a.target, json!({"operation": "status"}))?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print!("{}", summary(&r["result"]));
            }
        }
        DegradationCommand::Override(a) => {
            let over = json!({"module": a.module, "force_level": a.level, "pinned_features": a.pin,
                              "exempt": a.exempt, "reason": a.reason});
            let r = ask(&a.target, json!({"operation": "override", "by": a.by, "override": over}))?;
            println!("{}", serde_json::to_string_pretty(&r["result"]["over"])?);
        }
        DegradationCommand::Release(a) => {
            ask(&a.target, json!({"operation": "release_override", "by": a.by, "module": a.module}))?;
            println!("released {}", a.module);
        }
        DegradationCommand::History(a) => {
            let r = ask(&a.target, json!({"operation": "history", "since_ms": a.since_ms, "limit": a.limit}))?;
            println!("{}", serde_json::to_string_pretty(&r["result"]["events"])?);
        }
    }
    Ok(())
}

fn ask(target: &Target, body: Value) -> Result<Value> {
    Ok(call(target, "POST", "/resources/degradation", Some(body))?.1)
}

/// One line per module and constraint, for people.
fn summary(s: &Value) -> String {
    let mut out = String::new();
    for c in s["constraints"].as_array().into_iter().flatten() {
        out += &format!("constraint {} tier {}: {}\n", c["key"].as_str().unwrap_or("?"), c["tier"], str(&c["summary"]));
    }
    if let Some(h) = s["held"].as_str() {
        out += &format!("recovery held: {h}\n");
    }
    for m in s["modules"].as_array().into_iter().flatten() {
        let off: Vec<&str> = m["features"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["commanded_on"] == false)
            .filter_map(|f| f["name"].as_str())
            .collect();
        out += &format!(
            "{:<16} {:<10} {:<7} level {} (reported {}){}{}{} transitions {}\n",
            str(&m["name"]),
            str(&m["criticality"]),
            str(&m["state"]),
            m["commanded_level"],
            m["reported_level"],
            if m["paused"] == true { ", paused" } else { "" },
            if off.is_empty() { String::new() } else { format!(", off: {}", off.join(" ")) },
            if m["over"].is_null() { String::new() } else { format!(", override by {}", str(&m["over"]["by"])) },
            m["transitions"],
        );
    }
    out
}

fn str(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}
