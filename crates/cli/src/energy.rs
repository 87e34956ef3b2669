//! `stewardctl energy`: the energy monitor, the power planner and the manager of a running
//! Steward, through the same `POST /resources/energy` the UI uses. `status` prints every node's
//! power by source with provenance and today's and this week's energy; `report` writes the SVG
//! report; `plan`, `apply`, `rollback` and `journal` print the JSON answer.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::http::{Target, call};

#[derive(Subcommand)]
pub enum EnergyCommand {
    /// Power by node and source (with provenance), energy today and this week.
    Status {
        #[command(flatten)]
        target: Target,
        /// Only this node (`local` or a node id).
        #[arg(long)]
        node: Option<String>,
        /// Print the whole answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Writes the report (SVG: power over the last hour, energy today by consumer) to a file.
    Report {
        #[command(flatten)]
        target: Target,
        /// The file to write.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Profile each GPU at a few power limits and plan a reduction (not applied).
    Plan(PlanArgs),
    /// Apply a plan (by id) or, with --node/--device/--knob/--value, one setting.
    Apply(ApplyArgs),
    /// Roll back a plan (by id) or one journaled change (by number).
    Rollback(RollbackArgs),
    /// The journal of power changes, newest first, and the plans.
    Journal(JournalArgs),
}

#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    target: Target,
    /// Energy reduction to reach, e.g. `15%` or `15`.
    #[arg(long, value_name = "PERCENT", conflicts_with_all = ["eta", "max_slowdown"])]
    target_pct: Option<String>,
    /// Zeus's trade-off between energy (1) and time (0).
    #[arg(long)]
    eta: Option<f64>,
    /// Save the most energy without slowing down more than this, e.g. `5%`.
    #[arg(long, value_name = "PERCENT")]
    max_slowdown: Option<String>,
    /// Only these nodes (`local` is this machine); repeat for more.
    #[arg(long = "node")]
    nodes: Vec<String>,
    /// Only these devices (`gpu0`); repeat for more.
    #[arg(long = "device")]
    devices: Vec<String>,
    /// Seconds measured at each profiled limit.
    #[arg(long)]
    profile_seconds: Option<f64>,
    /// Limits in the coarse sweep.
    #[arg(long)]
    points: Option<u32>,
    #[command(flatten)]
    why: Why,
}

#[derive(Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    target: Target,
    /// The plan to apply.
    #[arg(required_unless_present = "knob")]
    plan: Option<String>,
    /// The node of a single setting (`local` is this machine).
    #[arg(long, requires_all = ["device", "knob", "value"], default_value = "local")]
    node: String,
    /// The device of a single setting (`gpu0`, `policy0`).
    #[arg(long)]
    device: Option<String>,
    /// gpu_power_limit, gpu_locked_clocks, cpu_governor, cpu_max_freq or cpu_epp.
    #[arg(long, conflicts_with = "plan")]
    knob: Option<String>,
    /// The value of a single setting (watts, kHz, a governor's name, ...).
    #[arg(long)]
    value: Option<String>,
    /// Say what would be done and whether it could be, changing nothing.
    #[arg(long)]
    dry_run: bool,
    /// A single setting that stays after this control center stops (not restored at its next start).
    #[arg(long)]
    keep: bool,
    #[command(flatten)]
    why: Why,
}

#[derive(Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    target: Target,
    /// A plan id (`plan-…`) or a journaled change's number.
    id: String,
    #[command(flatten)]
    why: Why,
}

#[derive(Args)]
pub struct JournalArgs {
    #[command(flatten)]
    target: Target,
    /// How many changes and plans to show.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

#[derive(Args)]
struct Why {
    /// Why, kept in the journal.
    #[arg(long)]
    why: Option<String>,
}

fn percent(s: &str) -> Result<f64> {
    match s.trim().trim_end_matches('%').trim().parse::<f64>() {
        Ok(v) => Ok(v),
        Err(_) => bail!("{s:?} is not a percentage (e.g. 15%)"),
    }
}

fn send(target: &Target, mut body: Value, why: Option<&Why>) -> Result<()> {
    body["who"] = format!("stewardctl ({})", std::env::var("USER").unwrap_or_else(|_| "unknown user".into())).into();
    if let Some(w) = why.and_then(|w| w.why.clone()) {
        body["why"] = w.into();
    }
    let (_, json) = call(target, "POST", "/resources/energy", Some(body))?;
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

pub fn run(cmd: EnergyCommand) -> Result<()> {
    match cmd {
        EnergyCommand::Status { target, node, json } => {
            let mut req = serde_json::json!({"operation": "monitor"});
            if let Some(n) = node {
                req["node"] = n.into();
            }
            let (_, answer) = call(&target, "POST", "/resources/energy", Some(req))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&answer)?);
            } else {
                print!("{}", status_text(&answer["result"]));
            }
            Ok(())
        }
        EnergyCommand::Report { target, out } => {
            let (_, svg) = call(&target, "GET", "/api/energy/report.svg", None)?;
            let svg = svg.as_str().filter(|s| s.starts_with("<svg")).ok_or_else(|| anyhow::anyhow!("no SVG: {svg}"))?;
            std::fs::write(&out, svg)?;
            eprintln!("wrote {}", out.display());
            Ok(())
        }
        EnergyCommand::Plan(a) => {
            let mut plan = json!({});
            if let Some(t) = &a.target_pct {
                plan["target_pct"] = percent(t)?.into();
            }
            if let Some(s) = &a.max_slowdown {
                plan["max_slowdown_pct"] = percent(s)?.into();
            }
            if let Some(e) = a.eta {
                plan["eta"] = e.into();
            }
            if !a.nodes.is_empty() {
                plan["nodes"] = json!(a.nodes);
            }
            if !a.devices.is_empty() {
                plan["devices"] = json!(a.devices);
            }
            if let Some(s) = a.profile_seconds {
                plan["profile_seconds"] = s.into();
            }
            if let Some(p) = a.points {
                plan["points"] = p.into();
            }
            send(&a.target, json!({"operation": "plan", "plan": plan}), Some(&a.why))
        }
        EnergyCommand::Apply(a) => {
            let mut apply = json!({"dry_run": a.dry_run, "keep": a.keep});
            match (&a.plan, &a.knob) {
                (Some(p), _) => apply["plan_id"] = p.clone().into(),
                (None, Some(k)) => {
                    apply["change"] = json!({"node": a.node, "device": a.device, "knob": k, "value": a.value});
                }
                (None, None) => bail!("give a plan id, or --device, --knob and --value"),
            }
            send(&a.target, json!({"operation": "apply", "apply": apply}), Some(&a.why))
        }
        EnergyCommand::Rollback(a) => {
            let rollback = match a.id.parse::<i64>() {
                Ok(n) => json!({"change_id": n}),
                Err(_) => json!({"plan_id": a.id}),
            };
            send(&a.target, json!({"operation": "rollback", "rollback": rollback}), Some(&a.why))
        }
        EnergyCommand::Journal(a) => send(&a.target, json!({"operation": "journal", "limit": a.limit}), None),
    }
}

/// The monitor's answer as lines for a terminal: watts with provenance, or why there are none.
fn status_text(m: &Value) -> String {
    let mut out = String::new();
    for n in m["nodes"].as_array().into_iter().flatten() {
        let e = &n["energy"];
        if e["status"] != "available" {
            out += &format!(
                "{}: unavailable — {}\n",
                n["node"].as_str().unwrap_or("?"),
                e["reason"].as_str().unwrap_or("")
            );
            continue;
        }
        let v = &e["value"];
        out += &format!(
            "{}: total {} ({})\n",
            n["node"].as_str().unwrap_or("?"),
            watts(&v["total_w"]),
            provenance(&v["total_provenance"])
        );
        for s in v["sources"].as_array().into_iter().flatten() {
            let joules = s["energy_j"].as_f64().map(|j| format!(", {j:.1} J")).unwrap_or_default();
            out += &format!(
                "  {:<24} {}{joules} ({})\n",
                s["id"].as_str().unwrap_or("?"),
                watts(&s["power_w"]),
                provenance(&s["provenance"])
            );
        }
    }
    for (name, spend) in [("today", &m["today"]), ("last 7 days", &m["week"])] {
        out += &format!("{name}: {:.4} kWh\n", spend["kwh"].as_f64().unwrap_or(0.0));
    }
    out
}

fn watts(r: &Value) -> String {
    match r["value"].as_f64() {
        Some(w) => format!("{w:.1} W"),
        None => format!("unavailable: {}", r["reason"].as_str().unwrap_or("")),
    }
}

fn provenance(p: &Value) -> String {
    let kind = p["kind"].as_str().unwrap_or("?");
    match kind {
        "measured" => format!("measured, {}", p["meter"].as_str().unwrap_or("")),
        "modelled" => format!("modelled: {}", p["assumptions"].as_str().unwrap_or("")),
        _ => kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_provenance_and_never_prints_an_unknown_as_zero() {
        let m = serde_json::json!({
            "nodes": [{"node": "local", "energy": {"status": "available", "value": {
                "total_w": {"status": "unavailable", "reason": "cpu.model: no TDP known"},
                "total_provenance": {"kind": "modelled", "assumptions": "no TDP known"},
                "sources": [{"id": "gpu.0", "power_w": {"status": "available", "value": 100.5},
                             "energy_j": 201.0, "provenance": {"kind": "measured", "meter": "NVML"}}]
            }}}],
            "today": {"kwh": 0.5}, "week": {"kwh": 1.0}
        });
        let text = status_text(&m);
        assert!(text.contains("gpu.0                    100.5 W, 201.0 J (measured, NVML)"), "{text}");
        assert!(text.contains("total unavailable: cpu.model: no TDP known"), "{text}");
        assert!(!text.contains(" 0.0 W"), "{text}");
    }
}
