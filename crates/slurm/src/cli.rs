//! The Slurm CLI on this host: `sinfo`/`squeue --json` for reads when slurmrestd is absent, and
//! `scontrol` for what the REST API of Slurm 22.05–23.02 cannot do (reservations, node states).
//! Arguments are passed as a vector, never through a shell.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use steward_core::alloc::time::parse_rfc3339;

use crate::SlurmError;
use crate::model::{Partition, Reservation};

#[derive(Debug, Clone, Default)]
pub struct Cli {
    /// `SLURM_CONF` for the commands; `None` = Slurm's default (/etc/slurm/slurm.conf).
    pub conf: Option<PathBuf>,
}

impl Cli {
    fn run(&self, program: &str, args: &[&str]) -> Result<String, SlurmError> {
        let mut cmd = Command::new(program);
        // Times in UTC, so `StartTime=...` reads without knowing the host's zone.
        cmd.args(args).env("TZ", "UTC");
        if let Some(conf) = &self.conf {
            cmd.env("SLURM_CONF", conf);
        }
        let out = cmd.output().map_err(|e| SlurmError::Command { program: program.into(), cause: e.to_string() })?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(SlurmError::Refused(if said.is_empty() { stdout.trim().to_string() } else { said }));
        }
        Ok(stdout)
    }

    fn json(&self, program: &str, args: &[&str]) -> Result<Value, SlurmError> {
        let text = self.run(program, args)?;
        serde_json::from_str(&text).map_err(|e| SlurmError::Malformed(format!("{program} --json: {e}")))
    }

    /// The same shape as slurmrestd's `GET nodes`.
    pub fn nodes(&self) -> Result<Value, SlurmError> {
        self.json("sinfo", &["--json"])
    }

    /// The same shape as slurmrestd's `GET jobs`.
    pub fn jobs(&self) -> Result<Value, SlurmError> {
        self.json("squeue", &["--json"])
    }

    /// One job, in the shape of slurmrestd's `GET job/{id}`.
    pub fn job(&self, job_id: u64) -> Result<Value, SlurmError> {
        self.json("squeue", &["--json", "--jobs", &job_id.to_string()])
    }

    pub fn partitions(&self) -> Result<Vec<Partition>, SlurmError> {
        let text = self.run("scontrol", &["show", "partition", "--oneliner"])?;
        Ok(records(&text).iter().map(|r| partition(r)).collect())
    }

    pub fn reservations(&self) -> Result<Vec<Reservation>, SlurmError> {
        let text = self.run("scontrol", &["show", "reservation", "--oneliner"])?;
        Ok(records(&text).iter().map(|r| reservation(r)).collect())
    }

    /// One reservation; Slurm refuses a name it does not know.
    pub fn reservation(&self, name: &str) -> Result<Vec<Reservation>, SlurmError> {
        let text = self.run("scontrol", &["show", "reservation", name, "--oneliner"])?;
        Ok(records(&text).iter().map(|r| reservation(r)).collect())
    }

    /// `scontrol create reservation` with `key=value` settings.
    pub fn create_reservation(&self, settings: &[(String, String)]) -> Result<(), SlurmError> {
        self.scontrol_with("create", "reservation", settings)
    }

    pub fn update_reservation(&self, settings: &[(String, String)]) -> Result<(), SlurmError> {
        self.scontrol_with("update", "reservation", settings)
    }

    pub fn delete_reservation(&self, name: &str) -> Result<(), SlurmError> {
        self.run("scontrol", &["delete", &format!("reservationname={name}")]).map(drop)
    }

    /// Drain (`reason` given) or resume a node.
    pub fn set_node_state(&self, node: &str, drain_reason: Option<&str>) -> Result<(), SlurmError> {
        let mut args = vec!["update".to_string(), format!("nodename={node}")];
        match drain_reason {
            Some(reason) => args.extend(["state=drain".into(), format!("reason={reason}")]),
            None => args.push("state=resume".into()),
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run("scontrol", &args).map(drop)
    }

    fn scontrol_with(&self, verb: &str, what: &str, settings: &[(String, String)]) -> Result<(), SlurmError> {
        let mut args = vec![verb.to_string(), what.to_string()];
        args.extend(settings.iter().map(|(k, v)| format!("{k}={v}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run("scontrol", &args).map(drop)
    }
}

/// `scontrol show ... --oneliner`: one record a line of `Key=Value` words. Values hold no
/// spaces except the last field of some records, which Steward does not read.
pub fn records(text: &str) -> Vec<Vec<(String, String)>> {
    text.lines()
        .filter(|l| l.contains('='))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn field<'a>(record: &'a [(String, String)], key: &str) -> Option<&'a str> {
    record.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| *v != "(null)" && !v.is_empty())
}

fn partition(r: &[(String, String)]) -> Partition {
    Partition {
        name: field(r, "PartitionName").unwrap_or_default().to_string(),
        nodes: field(r, "Nodes").unwrap_or_default().to_string(),
        state: field(r, "State").unwrap_or_default().to_ascii_lowercase(),
        priority_tier: field(r, "PriorityTier").and_then(|t| t.parse().ok()),
        preemption_mode: field(r, "PreemptMode").map(|m| vec![m.to_ascii_lowercase()]).unwrap_or_default(),
        total_cpus: field(r, "TotalCPUs").and_then(|t| t.parse().ok()),
        default: field(r, "Default") == Some("YES"),
    }
}

fn reservation(r: &[(String, String)]) -> Reservation {
    Reservation {
        name: field(r, "ReservationName").unwrap_or_default().to_string(),
        start_time: field(r, "StartTime").and_then(utc_seconds),
        end_time: field(r, "EndTime").and_then(utc_seconds),
        node_list: field(r, "Nodes").unwrap_or_default().to_string(),
        flags: field(r, "Flags").map(|f| f.split(',').map(str::to_ascii_lowercase).collect()).unwrap_or_default(),
        users: field(r, "Users").unwrap_or_default().to_string(),
        partition: field(r, "PartitionName").map(str::to_string),
        core_count: field(r, "CoreCnt").and_then(|c| c.parse().ok()),
    }
}

/// `2026-12-07T23:44:01` (UTC) as Unix seconds.
fn utc_seconds(t: &str) -> Option<i64> {
    parse_rfc3339(&format!("{t}Z")).ok().map(|ms| ms.div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_read() {
        assert_eq!(utc_seconds("1970-01-01T00:00:00"), Some(0));
        assert_eq!(utc_seconds("2026-12-07T23:44:01"), Some(1_796_687_041));
        assert_eq!(utc_seconds("Unknown"), None);
    }

    #[test]
    fn oneliner_records_are_read() {
        let text = "ReservationName=r1 StartTime=2026-12-07T23:44:01 Nodes=vm CoreCnt=2 PartitionName=(null) \
                    Flags=IGNORE_JOBS,SPEC_NODES Users=steward-slurm\n";
        let r = reservation(&records(text)[0]);
        assert_eq!(r.name, "r1");
        assert_eq!(r.flags, ["ignore_jobs", "spec_nodes"]);
        assert_eq!((r.partition, r.core_count), (None, Some(2)));
    }
}
