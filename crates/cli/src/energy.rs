//! `stewardctl energy status`: every node's power by source with provenance, and today's and
//! this week's energy, from a running Steward (`POST /resources/energy`, operation `monitor`).

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::Value;

use crate::http::{Target, call};

#[derive(Args)]
pub struct EnergyArgs {
    #[command(subcommand)]
    command: EnergyCommand,
}

#[derive(Subcommand)]
enum EnergyCommand {
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
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

pub fn run(args: EnergyArgs) -> Result<()> {
    match args.command {
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
