//! Slurm's nodes, partitions, jobs and reservations as Steward reads them, from the JSON of any
//! OpenAPI plugin version (slurmrestd or `sinfo/squeue --json`). Fields Slurm leaves unset are
//! `None`, never a made-up zero.

use serde::Serialize;
use serde_json::Value;

use crate::number::{count, number, words};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub name: String,
    pub address: Option<String>,
    /// The base state first (`idle`, `mixed`, `allocated`, `down`, ...), then flags (`drain`, ...).
    pub state: Vec<String>,
    pub reason: Option<String>,
    pub partitions: Vec<String>,
    pub cpus: Option<u64>,
    pub alloc_cpus: Option<u64>,
    /// Load average × 100, as slurmd reports it.
    pub cpu_load: Option<u64>,
    pub real_memory_mb: Option<u64>,
    pub alloc_memory_mb: Option<u64>,
    pub free_memory_mb: Option<u64>,
    pub gpus: Option<u64>,
    pub gpus_used: Option<u64>,
}

impl Node {
    pub fn drained(&self) -> bool {
        self.state.iter().any(|s| s == "drain" || s == "drained" || s == "draining")
    }

    pub fn down(&self) -> bool {
        self.state.iter().any(|s| s == "down" || s == "not_responding" || s == "fail")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Partition {
    pub name: String,
    pub nodes: String,
    pub state: String,
    pub priority_tier: Option<i64>,
    pub preemption_mode: Vec<String>,
    pub total_cpus: Option<u64>,
    pub default: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub job_id: u64,
    /// For an array element: the array's job id and this element's index.
    pub array_job_id: Option<u64>,
    pub array_task_id: Option<u64>,
    pub name: String,
    pub user: String,
    pub partition: String,
    pub state: Vec<String>,
    /// Why it waits ("Priority", "Resources", "BeginTime", ...), when it does.
    pub reason: Option<String>,
    pub priority: Option<i64>,
    pub nodes: Option<String>,
    pub cpus: Option<u64>,
    pub restarts: u64,
    pub submit_time: Option<i64>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub reservation: Option<String>,
    pub exit_code: Option<i64>,
    pub comment: Option<String>,
}

impl Job {
    pub fn pending(&self) -> bool {
        self.state.iter().any(|s| s == "pending")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reservation {
    pub name: String,
    /// Unix seconds.
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub node_list: String,
    pub flags: Vec<String>,
    pub users: String,
    pub partition: Option<String>,
    pub core_count: Option<u64>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

/// Count of GPUs in a GRES string such as `gpu:2`, `gpu:tesla:2(S:0)` or `gpu:(null):1(IDX:0)`.
pub fn gpu_count(gres: &str) -> Option<u64> {
    let gpus: Vec<u64> = gres
        .split(',')
        .filter(|g| g.starts_with("gpu"))
        .filter_map(|g| g[..g.rfind('(').unwrap_or(g.len())].rsplit(':').next()?.parse().ok())
        .collect();
    (!gpus.is_empty()).then(|| gpus.iter().sum())
}

pub fn nodes(answer: &Value) -> Vec<Node> {
    list(answer, "nodes").iter().map(node).collect()
}

fn node(v: &Value) -> Node {
    let mut state = words(get(v, "state"));
    state.extend(words(get(v, "state_flags")));
    state.dedup();
    let gres = text(v, "gres").unwrap_or_default();
    let gres_used = text(v, "gres_used").unwrap_or_default();
    Node {
        name: text(v, "name").unwrap_or_default(),
        address: text(v, "address"),
        state,
        reason: text(v, "reason"),
        partitions: get(v, "partitions").as_array().map(|p| strings(p)).unwrap_or_default(),
        cpus: count(get(v, "cpus")),
        alloc_cpus: count(get(v, "alloc_cpus")),
        cpu_load: count(get(v, "cpu_load")),
        real_memory_mb: count(get(v, "real_memory")),
        alloc_memory_mb: count(get(v, "alloc_memory")),
        free_memory_mb: count(get(v, "free_memory")).or_else(|| count(get(v, "free_mem"))),
        gpus: gpu_count(&gres),
        gpus_used: gpu_count(&gres_used).or(gpu_count(&gres).map(|_| 0)),
    }
}

pub fn partitions(answer: &Value) -> Vec<Partition> {
    list(answer, "partitions").iter().map(partition).collect()
}

fn partition(v: &Value) -> Partition {
    // v0.0.40 nests most fields (`partition.state`, `priority.tier`, `nodes.configured`).
    let nested = |outer: &str, inner: &str| v.get(outer).and_then(|o| o.get(inner)).cloned().unwrap_or(Value::Null);
    let nodes = text(v, "nodes").or_else(|| nested("nodes", "configured").as_str().map(str::to_string));
    let state = text(v, "state").or_else(|| words(&nested("partition", "state")).first().cloned());
    let mut flags = words(get(v, "flags"));
    flags.extend(words(&nested("partition", "flags")));
    Partition {
        name: text(v, "name").unwrap_or_default(),
        nodes: nodes.unwrap_or_default(),
        state: state.unwrap_or_default().to_ascii_lowercase(),
        priority_tier: number(get(v, "priority_tier")).or_else(|| number(&nested("priority", "tier"))),
        preemption_mode: words(get(v, "preemption_mode")),
        total_cpus: count(get(v, "total_cpus")).or_else(|| count(&nested("cpus", "total"))),
        default: flags.iter().any(|f| f == "default"),
    }
}

pub fn jobs(answer: &Value) -> Vec<Job> {
    list(answer, "jobs").iter().map(job).collect()
}

fn job(v: &Value) -> Job {
    let time = |k: &str| number(get(v, k)).filter(|t| *t > 0);
    Job {
        job_id: count(get(v, "job_id")).unwrap_or_default(),
        array_job_id: count(get(v, "array_job_id")).filter(|id| *id > 0),
        array_task_id: count(get(v, "array_task_id")),
        name: text(v, "name").unwrap_or_default(),
        user: text(v, "user_name").unwrap_or_default(),
        partition: text(v, "partition").unwrap_or_default(),
        state: words(get(v, "job_state")),
        reason: text(v, "state_reason").filter(|r| r != "None"),
        priority: number(get(v, "priority")),
        nodes: text(v, "nodes"),
        cpus: count(get(v, "cpus")),
        restarts: count(get(v, "restart_cnt")).unwrap_or_default(),
        submit_time: time("submit_time"),
        start_time: time("start_time"),
        end_time: time("end_time"),
        reservation: text(v, "resv_name").or_else(|| text(v, "reservation")),
        exit_code: number(get(v, "exit_code"))
            .or_else(|| v.get("exit_code").and_then(|e| number(get(e, "return_code")))),
        comment: text(v, "comment"),
    }
}

pub fn reservations(answer: &Value) -> Vec<Reservation> {
    list(answer, "reservations").iter().map(reservation).collect()
}

fn reservation(v: &Value) -> Reservation {
    Reservation {
        name: text(v, "name").unwrap_or_default(),
        start_time: number(get(v, "start_time")),
        end_time: number(get(v, "end_time")),
        node_list: text(v, "node_list").unwrap_or_default(),
        flags: words(get(v, "flags")),
        users: text(v, "users").unwrap_or_default(),
        partition: text(v, "partition"),
        core_count: count(get(v, "core_count")),
    }
}

fn list<'a>(answer: &'a Value, key: &str) -> &'a [Value] {
    answer.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn strings(items: &[Value]) -> Vec<String> {
    items.iter().filter_map(Value::as_str).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn gres_strings_count_gpus() {
        assert_eq!(gpu_count("gpu:2"), Some(2));
        assert_eq!(gpu_count("gpu:tesla:2(S:0-1)"), Some(2));
        assert_eq!(gpu_count("gpu:(null):1(IDX:0)"), Some(1));
        assert_eq!(gpu_count("gpu:a100:1,gpu:v100:2"), Some(3));
        assert_eq!(gpu_count(""), None);
        assert_eq!(gpu_count("mps:100"), None);
    }

    #[test]
    fn a_drained_v0_0_40_node_reads_like_a_v0_0_38_one() {
        let v38 = json!({"nodes": [{"name": "n1", "state": "idle", "state_flags": ["DRAIN"], "cpus": 8,
            "alloc_cpus": 0, "real_memory": 1000, "gres": "gpu:2", "gres_used": "gpu:0"}]});
        let v40 = json!({"nodes": [{"name": "n1", "state": ["IDLE", "DRAIN"], "cpus": 8, "alloc_cpus": 0,
            "real_memory": 1000, "gres": "gpu:2", "gres_used": "gpu:0"}]});
        assert_eq!(nodes(&v38), nodes(&v40));
        let n = &nodes(&v38)[0];
        assert!(n.drained() && !n.down());
        assert_eq!((n.gpus, n.gpus_used), (Some(2), Some(0)));
        assert_eq!(n.free_memory_mb, None, "unset stays unset");
    }

    #[test]
    fn a_pending_job_says_why() {
        let j = &jobs(&json!({"jobs": [{"job_id": 7, "job_state": "PENDING", "state_reason": "Priority",
            "priority": {"set": true, "number": 42}, "start_time": 0}]}))[0];
        assert!(j.pending());
        assert_eq!((j.reason.as_deref(), j.priority, j.start_time), (Some("Priority"), Some(42), None));
    }
}
