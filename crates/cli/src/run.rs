//! `stewardctl run | status`: distributed tasks on a running Steward, the same calls as the
//! executions view (`POST /resources/distributed`, `/api/executions`).

use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};

use crate::alloc::{ListArgs, Target, call};

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    target: Target,
    /// Task id (generated when absent); other tasks name it in --depends-on.
    #[arg(long)]
    id: Option<String>,
    /// Items START..END (end excluded): `{start}` and `{end}` in the command are a partition's.
    #[arg(long, value_name = "START..END", conflicts_with_all = ["shards", "files"])]
    range: Option<String>,
    /// N shards, one partition each: `{shard}` and `{shards}` in the command.
    #[arg(long)]
    shards: Option<u32>,
    /// Files to split among partitions: an argument `{files}` becomes a partition's files.
    #[arg(long, num_args = 1.., value_delimiter = ',')]
    files: Vec<String>,
    /// Partition count (default: sized by the cluster's capacity).
    #[arg(long)]
    partitions: Option<u32>,
    /// Copies of every partition on distinct nodes (critical tasks).
    #[arg(long, default_value_t = 1)]
    replicas: u32,
    /// CPU cores each partition needs.
    #[arg(long, default_value_t = 1)]
    cores: u32,
    /// Seconds a partition may run before it is stopped (and retried).
    #[arg(long)]
    timeout_s: Option<u64>,
    /// A class (critical, high, normal, low, scavenger) or an integer priority.
    #[arg(long, value_parser = crate::alloc::parse_priority)]
    priority: Option<String>,
    /// Run again even if the same command and inputs finished before.
    #[arg(long)]
    no_reuse: bool,
    /// Task ids this task waits for (comma-separated); it runs once they succeeded.
    #[arg(long, value_delimiter = ',')]
    depends_on: Vec<String>,
    /// Run only when something asks for the result.
    #[arg(long)]
    lazy: bool,
    /// The built-in no-op kind (measures dispatch; the command is ignored).
    #[arg(long)]
    noop: bool,
    /// Return at once instead of following the execution and printing its output.
    #[arg(long)]
    detach: bool,
    /// Queue the task even when no node takes work now (otherwise it is refused, with why).
    #[arg(long)]
    wait: bool,
    /// Lines of each partition's output kept as its result (default: `[dispatch] max_output_lines`).
    #[arg(long)]
    max_output_lines: Option<u64>,
    /// Bytes of each partition's output kept as its result (default: `[dispatch] max_output_bytes`).
    #[arg(long)]
    max_output_bytes: Option<u64>,
    /// The command template, after `--`.
    #[arg(last = true)]
    command: Vec<String>,
}

#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    list: ListArgs,
    /// An execution id; absent = list executions.
    execution: Option<String>,
}

fn input(a: &RunArgs) -> Result<Value> {
    if let Some(r) = &a.range {
        let Some((s, e)) = r.split_once("..") else { bail!("--range must be START..END, e.g. 0..1000") };
        return Ok(json!({"type": "range", "start": s.trim().parse::<u64>()?, "end": e.trim().parse::<u64>()?}));
    }
    if let Some(n) = a.shards {
        return Ok(json!({"type": "shards", "count": n}));
    }
    if !a.files.is_empty() {
        return Ok(json!({"type": "files", "files": a.files}));
    }
    bail!("give the input: --range START..END, --shards N or --files A,B,...")
}

pub fn run(a: RunArgs) -> Result<()> {
    let mut task = json!({
        "command": a.command,
        "input": input(&a)?,
        "kind": if a.noop { "noop" } else { "process" },
        "replicas": a.replicas,
        "cores": a.cores,
        "reuse": !a.no_reuse,
        "depends_on": a.depends_on,
        "lazy": a.lazy,
        "wait": a.wait,
        "output": {"max_lines": a.max_output_lines, "max_bytes": a.max_output_bytes},
    });
    for (k, v) in [
        ("id", a.id.clone().map(Value::from)),
        ("partitions", a.partitions.map(Value::from)),
        ("timeout_s", a.timeout_s.map(Value::from)),
    ] {
        if let Some(v) = v {
            task[k] = v;
        }
    }
    if let Some(p) = &a.priority {
        task["priority"] = p.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(p.as_str()));
    }
    let (_, answer) =
        call(&a.target, "POST", "/resources/distributed", Some(json!({"operation": "distribute", "task": task})))?;
    let exec = answer["result"]["execution_id"].as_str().unwrap_or_default().to_string();
    eprintln!("execution {exec}: {} partitions", answer["result"]["partitions"].as_array().map_or(0, Vec::len));
    if a.detach {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let last = follow(&a.target, &exec)?;
    let (_, output) = call(&a.target, "GET", &format!("/api/executions/{exec}/output"), None)?;
    for line in output.as_array().into_iter().flatten() {
        println!("{}", line.as_str().unwrap_or_default());
    }
    let r = &last["report"];
    eprintln!(
        "{}: {}/{} partitions, {} retries, {} speculative copies, {} late results discarded, {} ms",
        last["status"].as_str().unwrap_or("?"),
        r["succeeded"],
        r["partitions"],
        r["retries"],
        r["speculative_copies"],
        r["discarded_results"],
        r["elapsed_ms"]
    );
    if r["output_cut"].as_u64().is_some_and(|n| n > 0) {
        eprintln!(
            "the output of {} partition(s) was cut at their limits (each partition's output_cut in GET \
             /api/executions/{exec}); the whole output: GET /api/executions/{exec}/partitions/<index>/output",
            r["output_cut"]
        );
    }
    if last["status"] != "succeeded" {
        bail!("{}", r["error"].as_str().unwrap_or("the execution did not succeed"));
    }
    Ok(())
}

/// Polls `monitor` (which also asks for a lazy task's result) until the execution ends, with a
/// progress bar on a terminal.
fn follow(target: &Target, exec: &str) -> Result<Value> {
    let bar = crate::progress::fraction_bar();
    let ended = poll_until_ended(target, exec, |m| {
        crate::progress::set_fraction(&bar, m["progress"].as_f64().unwrap_or(0.0));
        bar.set_message(format!("{exec} {}", m["status"].as_str().unwrap_or("")));
    });
    bar.finish_and_clear();
    ended
}

fn poll_until_ended(target: &Target, exec: &str, mut on_update: impl FnMut(&Value)) -> Result<Value> {
    loop {
        let (_, m) = call(
            target,
            "POST",
            "/resources/distributed",
            Some(json!({"operation": "monitor", "execution_id": exec})),
        )?;
        let result = m["result"].clone();
        on_update(&result);
        if matches!(result["status"].as_str(), Some("succeeded" | "failed" | "cancelled")) {
            return Ok(result);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn status(a: StatusArgs) -> Result<()> {
    match &a.execution {
        Some(exec) => {
            let (_, m) = call(
                &a.list.target,
                "POST",
                "/resources/distributed",
                Some(json!({"operation": "monitor", "execution_id": exec})),
            )?;
            println!("{}", serde_json::to_string_pretty(&m["result"])?);
        }
        None => {
            let (_, list) = call(&a.list.target, "GET", "/api/executions", None)?;
            if a.list.wants_json() {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            for e in list.as_array().into_iter().flatten() {
                println!(
                    "{:<28} {:<10} {:>5.1}%  {} partitions  task {}",
                    e["execution_id"].as_str().unwrap_or(""),
                    e["status"].as_str().unwrap_or(""),
                    e["progress"].as_f64().unwrap_or(0.0) * 100.0,
                    e["partitions"].as_array().map_or(0, Vec::len),
                    e["task_id"].as_str().unwrap_or("")
                );
            }
        }
    }
    Ok(())
}
