//! The Slurm backend: Steward's views and operations over a Slurm cluster, through
//! `steward_slurm`. Slurm schedules; this only asks and reports.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use steward_core::alloc::{
    Allocation, AllocationRequest, Event, FieldError, NodeResources, Refusal, Reservation, ReservationRequest,
};
use steward_core::cluster::NodeView;
use steward_slurm::cli::Cli;
use steward_slurm::mapping::{self, PriorityMap};
use steward_slurm::model::Job;
use steward_slurm::rest::RestClient;
use steward_slurm::{ReservationSettings, SlurmClient, SlurmError};

use super::slurm_events::{EventLog, spawn_poller};
use super::{BackendInfo, BackendOperation, ClusterBackend, ReservationMove, SlurmSettings, slurm_views};
use crate::ApiError;
use crate::store_handle::StoreHandle;

pub struct SlurmBackend {
    client: SlurmClient,
    map: PriorityMap,
    work_dir: PathBuf,
    /// `None` when connected only to check it (`stewardctl backend check`): nothing is followed.
    events: Option<Arc<EventLog>>,
}

impl Drop for SlurmBackend {
    fn drop(&mut self) {
        if let Some(events) = &self.events {
            events.stop();
        }
    }
}

impl SlurmBackend {
    /// Reaches Slurm as the settings say (slurmrestd when configured, the CLI otherwise) and
    /// starts following its queue into `store`, when given one.
    pub(crate) fn connect(
        s: &SlurmSettings,
        now_ms: fn() -> i64,
        store: Option<StoreHandle>,
    ) -> Result<Self, ApiError> {
        let rest = match (&s.rest_url, &s.user, &s.token_file) {
            (Some(url), Some(user), Some(token)) => {
                Some(RestClient::connect(url, user, token.clone()).map_err(from_slurm)?)
            }
            _ => None,
        };
        let client = SlurmClient { rest, cli: Cli { conf: s.conf.clone() } };
        client.nodes().map_err(|e| ApiError::Internal(format!("cannot read Slurm's nodes: {e}")))?;
        let events = store.map(|store| Arc::new(EventLog::new(store)));
        if let Some(log) = &events {
            spawn_poller(client.clone(), log.clone(), Duration::from_millis(s.poll_ms.unwrap_or(2000)), now_ms);
        }
        Ok(SlurmBackend {
            client,
            map: PriorityMap { partitions: s.partitions.clone(), qos: s.qos.clone() },
            work_dir: s.work_dir.clone().unwrap_or_else(std::env::temp_dir),
            events,
        })
    }

    /// `slurm-<id>` is asked for directly; a request id needs the queue (it is the job's name).
    fn job_of(&self, allocation_id: &str) -> Result<Job, ApiError> {
        let direct = allocation_id.strip_prefix("slurm-").and_then(|n| n.parse::<u64>().ok());
        let is_it = |j: &Job| mapping::allocation(j, None, 0).id == allocation_id;
        let found = match direct {
            Some(job_id) => self.client.job(job_id).map_err(from_slurm)?.filter(is_it),
            None => self.client.jobs().map_err(from_slurm)?.into_iter().find(is_it),
        };
        found.ok_or_else(|| ApiError::NotFound(format!("no allocation {allocation_id:?} in Slurm's queue")))
    }
}

/// Slurm's refusals are the caller's conflict (its words passed on); the rest are faults.
fn from_slurm(e: SlurmError) -> ApiError {
    match e {
        SlurmError::Refused(why) => ApiError::Conflict(format!("Slurm refused: {why}")),
        other => ApiError::Internal(other.to_string()),
    }
}

fn refusal(why: String) -> Refusal {
    Refusal { error: format!("Slurm refused: {why}"), availability: vec![] }
}

/// Request fields Slurm has no equivalent for here: refused by name, never dropped silently.
fn unsupported(req: &AllocationRequest) -> Vec<FieldError> {
    let c = &req.constraints;
    let mut errors = vec![];
    let mut no = |field: &str, set: bool| {
        if set {
            errors.push(FieldError::new(field, "not supported by the Slurm backend (use a partition or feature)"));
        }
    };
    no("constraints.labels", !c.labels.is_empty());
    no("constraints.gpu_model", c.gpu_model.is_some());
    no("constraints.accelerator_kind", c.accelerator_kind.is_some());
    no("constraints.mig_profile", c.mig_profile.is_some());
    no("resources.gpu_memory_bytes", req.resources.gpu_memory_bytes.is_some());
    no("resources.min", req.resources.min.is_some());
    errors
}

impl ClusterBackend for SlurmBackend {
    fn info(&self) -> BackendInfo {
        let check = self.client.check();
        let description = match (&check.slurm_release, &check.rest_url) {
            (Some(release), Some(url)) => format!(
                "Slurm {release} through slurmrestd (OpenAPI {}) at {url}",
                check.openapi_version.as_deref().unwrap_or("?")
            ),
            _ => "Slurm through its CLI on this host (no slurmrestd configured)".into(),
        };
        let operations = check
            .operations
            .into_iter()
            .map(|(name, how)| BackendOperation { available: !how.starts_with("unavailable"), name, how })
            .collect();
        BackendInfo { kind: "slurm".into(), description, operations }
    }

    fn nodes(&self) -> Result<Vec<NodeView>, ApiError> {
        Ok(self.client.nodes().map_err(from_slurm)?.iter().map(slurm_views::node_view).collect())
    }

    fn resources(&self) -> Result<Vec<NodeResources>, ApiError> {
        Ok(self.client.nodes().map_err(from_slurm)?.iter().map(slurm_views::resources).collect())
    }

    fn allocations(&self) -> Result<Vec<Allocation>, ApiError> {
        let now = crate::clock::now_ms();
        Ok(self.client.jobs().map_err(from_slurm)?.iter().map(|j| mapping::allocation(j, None, now)).collect())
    }

    fn allocate(&self, req: &AllocationRequest, now_ms: i64) -> Result<Result<Allocation, Refusal>, ApiError> {
        let errors = unsupported(req);
        if !errors.is_empty() {
            return Err(ApiError::InvalidFields(errors));
        }
        if let Some(id) = &req.id
            && let Ok(earlier) = self.job_of(id)
        {
            // The same request again: Slurm already has its job.
            return Ok(Ok(mapping::allocation(&earlier, None, now_ms)));
        }
        let job = mapping::job_request(req, &self.map, &self.work_dir.display().to_string());
        let id = match self.client.submit(&job) {
            Ok(id) => id,
            Err(SlurmError::Refused(why)) => return Ok(Err(refusal(why))),
            Err(e) => return Err(from_slurm(e)),
        };
        let job = (self.client.job(id).map_err(from_slurm)?)
            .ok_or_else(|| ApiError::Internal(format!("Slurm accepted job {id} but does not list it")))?;
        let allocation = mapping::allocation(&job, Some(Arc::new(req.clone())), now_ms);
        if !req.queue && allocation.state.is_queued() {
            // The caller wanted now or nothing: take it back and say why it would wait.
            self.client.cancel(id).map_err(from_slurm)?;
            let why = allocation.pending_reason.unwrap_or_else(|| "it would wait in Slurm's queue".into());
            return Ok(Err(Refusal { error: format!("not granted now: {why}"), availability: vec![] }));
        }
        Ok(Ok(allocation))
    }

    fn cancel_allocation(&self, id: &str) -> Result<Allocation, ApiError> {
        let job = self.job_of(id)?;
        self.client.cancel(job.job_id).map_err(from_slurm)?;
        let after = self.client.job(job.job_id).ok().flatten().unwrap_or(job);
        Ok(mapping::allocation(&after, None, crate::clock::now_ms()))
    }

    fn reservations(&self, from_ms: i64, to_ms: i64) -> Result<Vec<Reservation>, ApiError> {
        let all = self.client.reservations().map_err(from_slurm)?;
        Ok(all.iter().map(slurm_views::reservation).filter(|r| r.start_time < to_ms && r.end_time > from_ms).collect())
    }

    fn reservation(&self, name: &str) -> Result<Reservation, ApiError> {
        let found = self.client.reservation(name).map_err(from_slurm)?;
        found
            .as_ref()
            .map(slurm_views::reservation)
            .ok_or_else(|| ApiError::NotFound(format!("no reservation {name:?} in Slurm")))
    }

    fn reserve(
        &self,
        req: &ReservationRequest,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Result<Reservation, Refusal>, ApiError> {
        let settings = mapping::reservation_request(req, start_ms, end_ms).map_err(ApiError::InvalidFields)?;
        match self.client.create_reservation(&settings) {
            Ok(()) => self.reservation(&settings.name).map(Ok),
            Err(SlurmError::Refused(why)) => Ok(Err(refusal(why))),
            Err(e) => Err(from_slurm(e)),
        }
    }

    fn move_reservation(&self, id: &str, change: &ReservationMove) -> Result<Reservation, ApiError> {
        let current = self.reservation(id)?;
        let settings = ReservationSettings {
            name: id.to_string(),
            start: change.start_ms.unwrap_or(current.start_time).div_euclid(1000),
            end: change.end_ms.unwrap_or(current.end_time).div_euclid(1000),
            // Empty: the nodes stay as they are.
            nodes: change.node.clone().unwrap_or_default(),
            ..Default::default()
        };
        self.client.update_reservation(&settings).map_err(from_slurm)?;
        self.reservation(id)
    }

    fn delete_reservation(&self, id: &str) -> Result<(), ApiError> {
        self.reservation(id)?;
        self.client.delete_reservation(id).map_err(from_slurm)
    }

    fn set_draining(&self, node: &str, draining: bool) -> Result<NodeView, ApiError> {
        let found = |n: &steward_slurm::model::Node| n.name == node;
        if !self.client.nodes().map_err(from_slurm)?.iter().any(found) {
            return Err(ApiError::NotFound(format!("no node {node:?} in Slurm")));
        }
        let result = if draining { self.client.drain(node, "drained from Steward") } else { self.client.resume(node) };
        result.map_err(from_slurm)?;
        let nodes = self.client.nodes().map_err(from_slurm)?;
        Ok(slurm_views::node_view(nodes.iter().find(|n| found(n)).expect("listed a moment ago")))
    }

    fn events(&self, kind: Option<&str>, limit: usize) -> Result<Vec<Event>, ApiError> {
        match &self.events {
            Some(log) => log.newest(kind, limit),
            None => Ok(vec![]),
        }
    }
}
