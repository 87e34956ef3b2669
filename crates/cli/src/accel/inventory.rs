//! `stewardctl accel list | register | bench`: the accelerators of every node, registering one
//! no driver reports, and characterizing this machine's adapters with the WGSL benchmark.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};

use crate::http::{ListArgs, Target, call};

#[derive(Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    target: Target,
    /// Unique on its node: letters, digits, '.', '_', '-'.
    id: String,
    /// gpu, tpu, fpga, npu or other.
    #[arg(long)]
    kind: String,
    /// The model as its maker names it, e.g. "TPU v5e".
    #[arg(long)]
    model: String,
    /// Its own memory, in bytes.
    #[arg(long)]
    memory_bytes: u64,
    /// A precision it computes in (fp64, fp32, tf32, bf16, fp16, fp8, int8, int4); repeat.
    #[arg(long = "precision", required = true)]
    precisions: Vec<String>,
    /// Published peak as PRECISION=TFLOPS (TOPS for integers), e.g. bf16=197; repeat.
    #[arg(long = "peak", value_parser = parse_peak)]
    peaks: Vec<(String, f64)>,
    /// Published memory bandwidth, in GB/s.
    #[arg(long)]
    memory_bandwidth_gbps: Option<f64>,
    /// The node it is on (default: this machine, `local`).
    #[arg(long)]
    node: Option<String>,
    /// The health check, run on the node: everything after `--`, e.g. `-- tpu-info --check`.
    #[arg(last = true)]
    health_check: Vec<String>,
}

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    target: Target,
    /// Only adapters whose name contains this (default: all).
    #[arg(long)]
    adapter: Option<String>,
    /// Print the JSON answer instead of a table.
    #[arg(long)]
    json: bool,
}

fn parse_peak(s: &str) -> Result<(String, f64), String> {
    let (p, v) = s.split_once('=').ok_or_else(|| format!("expected PRECISION=TFLOPS, got {s:?}"))?;
    let v: f64 = v.parse().map_err(|_| format!("{v:?} is not a number of TFLOPS"))?;
    Ok((p.to_string(), v))
}

fn operation(target: &Target, body: Value) -> Result<Value> {
    let (_, answer) = call(target, "POST", "/resources/accelerators", Some(body))?;
    Ok(answer["result"].clone())
}

pub(super) fn list(a: ListArgs) -> Result<()> {
    let result = operation(&a.target, json!({"operation": "list"}))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(());
    }
    for node in result["nodes"].as_array().into_iter().flatten() {
        println!("{} ({}, {})", text(&node["node"]), text(&node["name"]), text(&node["state"]));
        print_reading(&node["gpus"], "NVIDIA GPUs", |g| {
            format!(
                "  gpu{}  {}  {}  cc {}",
                g["index"],
                text(&g["name"]),
                reading(&g["memory_total_bytes"], |v| format!(
                    "{:.1} GiB",
                    v.as_f64().unwrap_or(0.0) / (1u64 << 30) as f64
                )),
                reading(&g["compute_capability"], text),
            )
        });
        print_reading(&node["gpu_links"], "links", |l| {
            let how = match l["nvlinks"].as_u64() {
                Some(n) if n > 0 => format!("{n}× NVLink"),
                _ => format!("PCIe ({})", reading(&l["pcie"], text)),
            };
            format!("  gpu{} ↔ gpu{}  {how}", l["a"], l["b"])
        });
        print_reading(&node["adapters"], "adapters", |d| {
            let offered = if d["is_software"] == true { "software: benchmarked, never offered" } else { "offered" };
            format!("  {} [{}]  {offered}", text(&d["name"]), text(&d["backend"]))
        });
        for r in node["registered"].as_array().into_iter().flatten() {
            let s = &r["spec"];
            let health = reading(&r["health"], |h| {
                format!("{} ({})", if h["healthy"] == true { "healthy" } else { "UNHEALTHY" }, text(&h["detail"]))
            });
            println!(
                "  {} {} {} [{}]  health: {health}",
                text(&s["kind"]),
                text(&s["id"]),
                text(&s["model"]),
                text(&r["source"])
            );
        }
    }
    Ok(())
}

pub(super) fn register(a: RegisterArgs) -> Result<()> {
    let mut spec = json!({
        "id": a.id, "kind": a.kind, "model": a.model, "memory_bytes": a.memory_bytes,
        "precisions": a.precisions, "peak_tflops": a.peaks.into_iter().collect::<BTreeMap<_, _>>(),
    });
    if let Some(bw) = a.memory_bandwidth_gbps {
        spec["memory_bandwidth_gbps"] = json!(bw);
    }
    if let Some(node) = a.node {
        spec["node"] = json!(node);
    }
    if !a.health_check.is_empty() {
        spec["health_check"] = json!(a.health_check);
    }
    let result = operation(&a.target, json!({"operation": "register", "accelerator": spec}))?;
    let r = &result["accelerator"];
    let verb = if result["replaced"] == true { "replaced" } else { "registered" };
    println!("{verb} {} on {}", text(&r["spec"]["id"]), text(&r["spec"]["node"]));
    println!("health: {}", reading(&r["health"], |h| text(&h["detail"])));
    Ok(())
}

pub(super) fn bench(a: BenchArgs) -> Result<()> {
    let mut body = json!({"operation": "characterize"});
    if let Some(adapter) = &a.adapter {
        body["adapter"] = json!(adapter);
    }
    let result = operation(&a.target, body)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(());
    }
    let Some(all) = result["characterizations"].as_array() else { bail!("the server answered no characterizations") };
    for c in all {
        let ad = &c["adapter"];
        let kind = if ad["is_software"] == true { ", software" } else { "" };
        println!(
            "{} [{}{kind}] driver {} {}",
            text(&ad["name"]),
            text(&ad["backend"]),
            text(&ad["driver"]),
            text(&ad["driver_info"])
        );
        let peaks = &c["published"];
        println!("  {:<12} {:>14} {:<8} {:>12} {:>9}  PROBLEM", "KERNEL", "MEASURED", "UNIT", "PEAK", "OF PEAK");
        for k in c["kernels"].as_array().into_iter().flatten() {
            let name = text(&k["kernel"]);
            let Some(m) = k["result"].get("value") else {
                println!("  {name:<12} unavailable: {}", text(&k["result"]["reason"]));
                continue;
            };
            let value = m["value"].as_f64().unwrap_or(0.0);
            let peak = match name.as_str() {
                "matmul_f32" => peaks["fp32_gflops"].as_f64(),
                "matmul_f16" => peaks["fp16_gflops"].as_f64(),
                "bandwidth" => peaks["memory_gbps"].as_f64(),
                _ => None,
            };
            let (peak_s, of) = match peak {
                Some(p) => (format!("{p:.0}"), format!("{:.1} %", 100.0 * value / p)),
                None => ("—".into(), "—".into()),
            };
            println!(
                "  {name:<12} {value:>14.3} {:<8} {peak_s:>12} {of:>9}  {}",
                text(&m["unit"]),
                text(&m["problem"])
            );
        }
        if let Some(source) = peaks["source"].as_str() {
            println!("  peak: {} ({source})", text(&peaks["model"]));
        }
    }
    Ok(())
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// A `Reading` as text: its value through `f`, or "unavailable (reason)".
fn reading(r: &Value, f: impl Fn(&Value) -> String) -> String {
    match r.get("value") {
        Some(v) => f(v),
        None => format!("unavailable ({})", text(&r["reason"])),
    }
}

fn print_reading(r: &Value, what: &str, line: impl Fn(&Value) -> String) {
    match r.get("value").and_then(Value::as_array) {
        Some(items) => items.iter().for_each(|i| println!("{}", line(i))),
        None => println!("  {what}: unavailable ({})", text(&r["reason"])),
    }
}
