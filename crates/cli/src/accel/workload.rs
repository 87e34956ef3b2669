//! `stewardctl accel analyze | advise | map`: workloads against the cluster's devices; prints
//! the JSON answer.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde_json::{Value, json};

use super::AccelCommand;
use crate::http::{Target, call};

#[derive(Args)]
pub struct WorkloadArgs {
    #[command(flatten)]
    target: Target,
    /// The workload as JSON (a file, or - for stdin); the flags below build one instead.
    #[arg(long, value_name = "FILE")]
    workload: Option<PathBuf>,
    /// Model parameters, e.g. 7e9.
    #[arg(long)]
    parameters: Option<f64>,
    /// f32, tf32, bf16, f16, fp8 or int8.
    #[arg(long, default_value = "f32")]
    precision: String,
    /// inference or training.
    #[arg(long, default_value = "inference")]
    mode: String,
    /// Samples per step.
    #[arg(long)]
    batch_size: Option<u32>,
    /// Tokens per sample (sequence models).
    #[arg(long)]
    tokens_per_sample: Option<u32>,
    /// Steps the task runs (for its total time).
    #[arg(long)]
    steps: Option<u64>,
    /// pytorch, jax, tensorflow, onnx, tensorrt or other.
    #[arg(long)]
    framework: Option<String>,
    /// Profiles of devices as JSON (a file): measured figures to use instead of datasheets.
    #[arg(long, value_name = "FILE")]
    devices: Option<PathBuf>,
}

#[derive(Args)]
pub struct AdviseArgs {
    #[command(flatten)]
    workload: WorkloadArgs,
    /// The device to advise for (`<node>/gpu<index>`).
    #[arg(long)]
    device: Option<String>,
}

#[derive(Args)]
pub struct MapArgs {
    #[command(flatten)]
    target: Target,
    /// The tasks as a JSON array (a file, or - for stdin): `[{"id", "workload", "owner"?, ...}]`.
    #[arg(long, value_name = "FILE")]
    tasks: PathBuf,
    /// time (finish soonest) or energy.
    #[arg(long, default_value = "time")]
    policy: String,
    /// Submit the mapping to the allocation engine.
    #[arg(long)]
    place: bool,
    /// Profiles of devices as JSON (a file): measured figures to use instead of datasheets.
    #[arg(long, value_name = "FILE")]
    devices: Option<PathBuf>,
}

pub(super) fn run(cmd: AccelCommand) -> Result<()> {
    let (target, body) = match &cmd {
        AccelCommand::Analyze(w) => {
            (&w.target, with_devices(json!({"operation": "analyze", "workload": workload(w)?}), w.devices.as_deref())?)
        }
        AccelCommand::Advise(a) => {
            let mut body = json!({"operation": "advise", "workload": workload(&a.workload)?});
            if let Some(d) = &a.device {
                body["device"] = d.clone().into();
            }
            (&a.workload.target, with_devices(body, a.workload.devices.as_deref())?)
        }
        AccelCommand::Map(m) => {
            let body = json!({"operation": "map", "tasks": read_json(&m.tasks)?, "policy": m.policy, "place": m.place});
            (&m.target, with_devices(body, m.devices.as_deref())?)
        }
        AccelCommand::List(_) | AccelCommand::Register(_) | AccelCommand::Bench(_) => {
            unreachable!("accel::run sends these to the inventory module")
        }
    };
    let (_, answer) = call(target, "POST", "/resources/accelerators", Some(body))?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

fn workload(w: &WorkloadArgs) -> Result<Value> {
    if let Some(file) = &w.workload {
        return read_json(file);
    }
    let mut v = json!({"precision": w.precision, "mode": w.mode});
    // The server names every wrong field; here only what was given is sent.
    if let Some(p) = w.parameters {
        v["parameters"] = json!(p.round() as u64);
    }
    for (key, value) in [
        ("batch_size", w.batch_size.map(u64::from)),
        ("tokens_per_sample", w.tokens_per_sample.map(u64::from)),
        ("steps", w.steps),
    ] {
        if let Some(x) = value {
            v[key] = json!(x);
        }
    }
    if let Some(f) = &w.framework {
        v["framework"] = json!(f);
    }
    Ok(v)
}

fn with_devices(mut body: Value, devices: Option<&Path>) -> Result<Value> {
    if let Some(file) = devices {
        body["devices"] = read_json(file)?;
    }
    Ok(body)
}

fn read_json(file: &Path) -> Result<Value> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))
}
