//! A job as Steward asks Slurm to run it, and the body slurmrestd's `job/submit` takes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobRequest {
    pub name: String,
    pub partition: Option<String>,
    pub cpus: u32,
    pub memory_mb: Option<u64>,
    pub gpus: u32,
    pub time_limit_min: Option<u32>,
    /// Slurm's nice (higher = lower priority); Steward's priority maps onto it.
    pub nice: Option<i32>,
    pub qos: Option<String>,
    pub reservation: Option<String>,
    /// Array indices, e.g. `0-9`: one element per partition of a distributed task.
    pub array: Option<String>,
    pub working_dir: String,
    pub environment: BTreeMap<String, String>,
    /// `%A`/`%a` patterns allowed: one file per array element.
    pub output: Option<String>,
    pub requeue: bool,
    /// Kept by Slurm with the job: Steward stores the allocation request here, so Slurm stays the
    /// one record of what Steward submitted.
    pub comment: Option<String>,
    pub script: String,
}

/// The `job/submit` body for a plugin version (environment became a list at v0.0.39).
pub fn body(req: &JobRequest, version: &str) -> Value {
    let mut job = json!({
        "name": req.name,
        "current_working_directory": req.working_dir,
        "tasks": 1,
        "cpus_per_task": req.cpus.max(1),
        "requeue": req.requeue,
    });
    let env: Value = if version == "v0.0.38" {
        json!(req.environment)
    } else {
        json!(req.environment.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>())
    };
    job["environment"] = env;
    let optional = [
        ("partition", req.partition.clone().map(Value::from)),
        ("memory_per_node", req.memory_mb.map(Value::from)),
        ("time_limit", req.time_limit_min.map(Value::from)),
        ("nice", req.nice.map(Value::from)),
        ("qos", req.qos.clone().map(Value::from)),
        ("reservation", req.reservation.clone().map(Value::from)),
        ("array", req.array.clone().map(Value::from)),
        ("comment", req.comment.clone().map(Value::from)),
        ("standard_output", req.output.clone().map(Value::from)),
        ("gres", (req.gpus > 0).then(|| Value::from(format!("gpu:{}", req.gpus)))),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            job[key] = v;
        }
    }
    if version == "v0.0.38" {
        json!({"script": req.script, "job": job})
    } else {
        job["script"] = Value::from(req.script.clone());
        json!({"job": job})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_follow_the_plugin_version() {
        let req = JobRequest {
            name: "t".into(),
            cpus: 2,
            gpus: 1,
            environment: BTreeMap::from([("A".into(), "1".into())]),
            script: "#!/bin/sh\ntrue\n".into(),
            ..Default::default()
        };
        let old = body(&req, "v0.0.38");
        assert_eq!(old["job"]["environment"]["A"], "1");
        assert_eq!(old["job"]["gres"], "gpu:1");
        assert!(old["job"].get("partition").is_none(), "unset fields are left to Slurm");
        let new = body(&req, "v0.0.40");
        assert_eq!(new["job"]["environment"][0], "A=1");
        assert_eq!(new["job"]["script"], req.script);
    }
}
