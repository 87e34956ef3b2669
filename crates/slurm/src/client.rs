//! One Slurm cluster as Steward drives it: slurmrestd when it is configured and reachable, the
//! CLI for what that slurmrestd version cannot do and for every read when there is none.

use serde::Serialize;
use serde_json::Value;
use steward_core::alloc::time::format_rfc3339;

use crate::SlurmError;
use crate::cli::Cli;
use crate::model::{self, Job, Node, Partition, Reservation};
use crate::rest::RestClient;
use crate::submit::{self, JobRequest};

#[derive(Debug, Clone)]
pub struct SlurmClient {
    pub rest: Option<RestClient>,
    pub cli: Cli,
}

/// What `stewardctl backend check` prints: what was reached and how each operation is done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub rest_url: Option<String>,
    pub openapi_version: Option<String>,
    pub slurm_release: Option<String>,
    /// Operation → "slurmrestd", "scontrol", "sinfo --json", ... or why it is unavailable.
    pub operations: Vec<(String, String)>,
}

/// A reservation as the calendar makes it. Times are Unix seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReservationSettings {
    pub name: String,
    pub start: i64,
    pub end: i64,
    /// A Slurm node list (`n[1-4]`) or `ALL`.
    pub nodes: String,
    pub users: Vec<String>,
    pub partition: Option<String>,
    /// Cores to hold on those nodes; `None`: the whole nodes.
    pub cores: Option<u32>,
    /// `OVERLAP`, `IGNORE_JOBS`, `DAILY`, `WEEKLY`, ...
    pub flags: Vec<String>,
}

impl ReservationSettings {
    fn settings(&self) -> Vec<(String, String)> {
        let mut s = vec![
            ("reservationname".to_string(), self.name.clone()),
            ("starttime".to_string(), slurm_time(self.start)),
            ("endtime".to_string(), slurm_time(self.end)),
            ("nodes".to_string(), self.nodes.clone()),
        ];
        if !self.users.is_empty() {
            s.push(("users".into(), self.users.join(",")));
        }
        if let Some(p) = &self.partition {
            s.push(("partitionname".into(), p.clone()));
        }
        if let Some(c) = self.cores {
            s.push(("corecnt".into(), c.to_string()));
        }
        if !self.flags.is_empty() {
            s.push(("flags".into(), self.flags.join(",")));
        }
        s
    }
}

/// Unix seconds as `scontrol` takes them: `YYYY-MM-DDTHH:MM:SS` in UTC (the CLI runs with TZ=UTC).
fn slurm_time(t: i64) -> String {
    // scontrol rejects the `Z` suffix; the times are UTC all the same.
    format_rfc3339(t.saturating_mul(1000)).trim_end_matches('Z').to_string()
}

impl SlurmClient {
    pub fn check(&self) -> Check {
        let via_rest = |op: &str| match &self.rest {
            Some(_) => (op.to_string(), "slurmrestd".to_string()),
            None => (op.to_string(), format!("{op} through the CLI (no slurmrestd configured)")),
        };
        Check {
            rest_url: self.rest.as_ref().map(|r| r.url.clone()),
            openapi_version: self.rest.as_ref().map(|r| r.version.to_string()),
            slurm_release: self.rest.as_ref().and_then(|r| r.release.clone()),
            operations: vec![
                via_rest("nodes"),
                via_rest("jobs"),
                via_rest("partitions"),
                via_rest("reservations"),
                (
                    "submit".into(),
                    self.rest.as_ref().map_or("unavailable: needs slurmrestd".into(), |_| "slurmrestd".into()),
                ),
                (
                    "cancel".into(),
                    self.rest.as_ref().map_or("unavailable: needs slurmrestd".into(), |_| "slurmrestd".into()),
                ),
                ("reservation changes".into(), "scontrol (the REST API of this version has none)".into()),
                ("drain and resume".into(), "scontrol".into()),
                ("accounting".into(), "unavailable: needs slurmdbd (sacct)".into()),
            ],
        }
    }

    pub fn nodes(&self) -> Result<Vec<Node>, SlurmError> {
        Ok(model::nodes(&self.read("nodes", || self.cli.nodes())?))
    }

    pub fn jobs(&self) -> Result<Vec<Job>, SlurmError> {
        Ok(model::jobs(&self.read("jobs", || self.cli.jobs())?))
    }

    /// One job by its Slurm id (`GET job/{id}`, `squeue --jobs`); `None` when Slurm no longer has it.
    pub fn job(&self, job_id: u64) -> Result<Option<Job>, SlurmError> {
        let path = format!("job/{job_id}");
        match self.read(&path, || self.cli.job(job_id)) {
            Ok(answer) => Ok(model::jobs(&answer).into_iter().find(|j| j.job_id == job_id)),
            Err(SlurmError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn partitions(&self) -> Result<Vec<Partition>, SlurmError> {
        match &self.rest {
            Some(rest) => Ok(model::partitions(&rest.get("partitions")?)),
            None => self.cli.partitions(),
        }
    }

    pub fn reservations(&self) -> Result<Vec<Reservation>, SlurmError> {
        match &self.rest {
            Some(rest) => Ok(model::reservations(&rest.get("reservations")?)),
            None => self.cli.reservations(),
        }
    }

    /// One reservation by name; `None` when Slurm has none of that name.
    pub fn reservation(&self, name: &str) -> Result<Option<Reservation>, SlurmError> {
        let found = match &self.rest {
            Some(rest) => rest.get(&format!("reservation/{name}")).map(|a| model::reservations(&a)),
            None => self.cli.reservation(name),
        };
        match found {
            Ok(all) => Ok(all.into_iter().find(|r| r.name == name)),
            Err(SlurmError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Submits a job (or an array); its id.
    pub fn submit(&self, req: &JobRequest) -> Result<u64, SlurmError> {
        let rest = self.rest.as_ref().ok_or_else(|| SlurmError::Refused("submitting needs slurmrestd".into()))?;
        let answer = rest.post("job/submit", &submit::body(req, rest.version))?;
        crate::number::count(answer.get("job_id").unwrap_or(&Value::Null))
            .ok_or_else(|| SlurmError::Malformed("job/submit answered without a job_id".into()))
    }

    pub fn cancel(&self, job_id: u64) -> Result<(), SlurmError> {
        let rest = self.rest.as_ref().ok_or_else(|| SlurmError::Refused("cancelling needs slurmrestd".into()))?;
        rest.delete(&format!("job/{job_id}")).map(drop)
    }

    pub fn create_reservation(&self, req: &ReservationSettings) -> Result<(), SlurmError> {
        self.cli.create_reservation(&req.settings())
    }

    /// Moves or resizes a reservation: its new times, and its nodes when `nodes` is not empty
    /// (Slurm refuses to change the nodes of a core-based reservation, so they are sent only on a
    /// change).
    pub fn update_reservation(&self, req: &ReservationSettings) -> Result<(), SlurmError> {
        let dropped = |k: &str, v: &str| ["users", "flags", "corecnt"].contains(&k) || (k == "nodes" && v.is_empty());
        let settings: Vec<(String, String)> = req.settings().into_iter().filter(|(k, v)| !dropped(k, v)).collect();
        self.cli.update_reservation(&settings)
    }

    pub fn delete_reservation(&self, name: &str) -> Result<(), SlurmError> {
        self.cli.delete_reservation(name)
    }

    pub fn drain(&self, node: &str, reason: &str) -> Result<(), SlurmError> {
        self.cli.set_node_state(node, Some(reason))
    }

    pub fn resume(&self, node: &str) -> Result<(), SlurmError> {
        self.cli.set_node_state(node, None)
    }

    fn read(&self, path: &str, cli: impl FnOnce() -> Result<Value, SlurmError>) -> Result<Value, SlurmError> {
        match &self.rest {
            Some(rest) => rest.get(path),
            None => cli(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_utc() {
        assert_eq!(slurm_time(0), "1970-01-01T00:00:00");
        assert_eq!(slurm_time(1_796_687_041), "2026-12-07T23:44:01");
    }
}
