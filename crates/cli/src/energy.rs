//! `stewardctl energy`: the power planner and manager of a running Steward, through the same
//! `POST /resources/energy` the UI uses; prints the JSON answer.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::http::{Target, call};

#[derive(Subcommand)]
pub enum EnergyCommand {
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
    #[arg(long, requires_all = ["device", "knob", "value"], default_value = "local")]
    node: String,
    #[arg(long)]
    device: Option<String>,
    /// gpu_power_limit, gpu_locked_clocks, cpu_governor, cpu_max_freq or cpu_epp.
    #[arg(long, conflicts_with = "plan")]
    knob: Option<String>,
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
