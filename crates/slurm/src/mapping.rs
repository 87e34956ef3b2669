//! Steward's allocations and reservations as Slurm jobs and reservations, and back.
//!
//! Slurm stays the authority: an allocation becomes a holding job Slurm schedules with its own
//! priorities and preemption; Steward's priority only picks the job's `nice` (and, where the
//! site maps them, its partition or QOS).

use std::collections::BTreeMap;
use std::sync::Arc;

use steward_core::alloc::{AllocState, Allocation};
use steward_core::alloc::{AllocationRequest, FieldError, PreemptionMode, PriorityClass, Qos};

use crate::client::ReservationSettings;
use crate::model::Job;
use crate::submit::JobRequest;

/// Where each priority class goes in Slurm. Unmapped classes keep the default partition and
/// get a `nice` from their priority (normal = 0, higher priorities negative).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriorityMap {
    pub partitions: BTreeMap<String, String>,
    pub qos: BTreeMap<String, String>,
}

/// Steward's priority (0–1000, normal 500) as Slurm's nice (higher = lower priority). Only Slurm
/// operators may set a negative nice, so priorities above normal get 0 and are raised through the
/// partitions or QOS the site maps their class to.
pub fn nice(priority: i32) -> i32 {
    (PriorityClass::Normal.value() - priority).clamp(0, 10_000)
}

/// The job that holds an allocation's resources for its duration.
pub fn job_request(req: &AllocationRequest, map: &PriorityMap, working_dir: &str) -> JobRequest {
    let priority = req.priority.map_or(PriorityClass::Normal.value(), |p| p.value());
    let class = PriorityClass::of(priority).name();
    JobRequest {
        name: req.id.clone().unwrap_or_else(|| format!("steward-{}", req.owner)),
        partition: map.partitions.get(class).cloned(),
        cpus: req.resources.cores.max(1),
        memory_mb: (req.resources.memory_bytes > 0).then(|| req.resources.memory_bytes.div_ceil(1 << 20)),
        gpus: req.resources.gpus,
        time_limit_min: req.duration_s.map(|s| s.div_ceil(60).max(1) as u32),
        nice: Some(nice(priority)),
        qos: map.qos.get(class).cloned(),
        reservation: req.reservation.clone(),
        array: None,
        working_dir: working_dir.into(),
        environment: BTreeMap::from([("PATH".into(), "/usr/bin:/bin".into())]),
        output: Some("/dev/null".into()),
        requeue: req.preemption.mode == PreemptionMode::Requeue,
        comment: serde_json::to_string(req).ok(),
        script: "#!/bin/sh\n# Holds the resources Steward allocated until the time limit or a cancel.\nexec sleep infinity\n"
            .into(),
    }
}

/// A Slurm job as the queue view shows an allocation. `request` is what Steward submitted, when
/// the job came from Steward.
pub fn allocation(job: &Job, request: Option<Arc<AllocationRequest>>, now_ms: i64) -> Allocation {
    let (state, why) = state(job);
    let ours = || job.comment.as_deref().and_then(|c| serde_json::from_str::<AllocationRequest>(c).ok());
    let request = request.or_else(|| ours().map(Arc::new)).unwrap_or_else(|| Arc::new(foreign_request(job)));
    let priority = request.priority.map_or(PriorityClass::Normal.value(), |p| p.value());
    Allocation {
        id: request.id.clone().unwrap_or_else(|| format!("slurm-{}", job.job_id)),
        owner: request.owner.clone(),
        state,
        pending_reason: why,
        priority,
        priority_class: PriorityClass::of(priority).name().into(),
        qos: request.qos,
        node: job.nodes.clone(),
        gpus: vec![],
        gpu_memory_bytes: None,
        cores: job.cpus.unwrap_or_default() as u32,
        memory_bytes: request.resources.memory_bytes,
        start_time: job.start_time.map(|s| s * 1000),
        end_time: job.end_time.map(|s| s * 1000),
        reservation: job.reservation.clone(),
        submitted_time: job.submit_time.map_or(now_ms, |s| s * 1000),
        preemption: None,
        preemptions: job.restarts as u32,
        request,
    }
}

/// A job Steward did not submit, as far as Slurm tells its request.
fn foreign_request(job: &Job) -> AllocationRequest {
    AllocationRequest {
        id: Some(format!("slurm-{}", job.job_id)),
        owner: job.user.clone(),
        resources: steward_core::alloc::ResourceAsk {
            cores: job.cpus.unwrap_or_default() as u32,
            ..Default::default()
        },
        priority: None,
        qos: Qos::Burstable,
        duration_s: None,
        constraints: Default::default(),
        reservation: job.reservation.clone(),
        preemption: Default::default(),
        queue: true,
        workload: None,
    }
}

/// Slurm's job state as Steward's, with the reason in words.
pub fn state(job: &Job) -> (AllocState, Option<String>) {
    let has = |s: &str| job.state.iter().any(|x| x == s);
    let why = job.reason.as_deref().map(reason);
    if has("running") || has("completing") || has("configuring") {
        (AllocState::Running, None)
    } else if has("pending") || has("requeued") {
        (AllocState::Pending, why.or(Some("waiting in Slurm's queue".into())))
    } else if has("suspended") {
        (AllocState::Suspended, Some("suspended by Slurm".into()))
    } else if has("preempted") {
        (AllocState::Preempted, Some("preempted by Slurm".into()))
    } else if has("cancelled") {
        (AllocState::Cancelled, Some("cancelled in Slurm".into()))
    } else {
        let ended = job.state.first().cloned().unwrap_or_else(|| "unknown".into());
        let how = if ended == "completed" { None } else { Some(format!("ended in Slurm: {ended}")) };
        (AllocState::Finished, how)
    }
}

/// Slurm's pending reasons in words; the code stays in brackets so admins can search it.
pub fn reason(code: &str) -> String {
    let words = match code {
        "Priority" => "higher-priority jobs are ahead",
        "Resources" => "waiting for resources to free up",
        "BeginTime" => "not before its begin time (a requeued job waits a little)",
        "Dependency" => "waiting for a job it depends on",
        "PartitionDown" | "PartitionInactive" => "its partition is down",
        "ReqNodeNotAvail" => "a node it needs is unavailable (drained, down or reserved)",
        "Reservation" => "waiting for its reservation to start",
        "QOSMaxJobsPerUserLimit" | "AssocMaxJobsLimit" => "a job-count limit of its QOS or account",
        "JobHeldUser" | "JobHeldAdmin" => "held",
        _ => return format!("Slurm: {code}"),
    };
    format!("{words} (Slurm: {code})")
}

/// A calendar reservation as Slurm's. Slurm repeats a reservation without an end date and has no
/// per-GPU reservations on a node, so those are refused, field by field.
pub fn reservation_request(
    r: &steward_core::alloc::ReservationRequest,
    start_ms: i64,
    end_ms: i64,
) -> Result<ReservationSettings, Vec<FieldError>> {
    let mut errors = vec![];
    let mut flags = vec![];
    if r.flags.overlap {
        flags.push("OVERLAP".to_string());
    }
    if r.flags.ignore_running {
        flags.push("IGNORE_JOBS".to_string());
    }
    if let Some(rec) = &r.recurrence {
        if rec.until.is_some() {
            errors.push(FieldError::new("recurrence.until", "Slurm repeats a reservation without an end date"));
        }
        flags.push(match rec.freq {
            steward_core::alloc::Frequency::Daily => "DAILY".into(),
            steward_core::alloc::Frequency::Weekly => "WEEKLY".into(),
        });
    }
    if !r.gpus.is_empty() {
        errors.push(FieldError::new("gpus", "Slurm reserves whole nodes or cores, not single GPUs"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ReservationSettings {
        name: r.name.clone().or_else(|| r.id.clone()).unwrap_or_else(|| format!("steward-{}", r.owner)),
        start: start_ms.div_euclid(1000),
        end: end_ms.div_euclid(1000),
        nodes: r.node.clone(),
        users: vec![r.owner.clone()],
        partition: None,
        cores: (r.cores > 0).then_some(r.cores),
        flags,
    })
}

#[cfg(test)]
mod tests {
    use steward_core::alloc::{Priority, ResourceAsk};

    use super::*;

    fn req(priority: PriorityClass) -> AllocationRequest {
        AllocationRequest {
            id: Some("a1".into()),
            owner: "ana".into(),
            resources: ResourceAsk { gpus: 1, cores: 4, memory_bytes: 3 << 30, ..Default::default() },
            priority: Some(Priority::Class(priority)),
            qos: Qos::Burstable,
            duration_s: Some(90),
            constraints: Default::default(),
            reservation: None,
            preemption: Default::default(),
            queue: true,
            workload: None,
        }
    }

    #[test]
    fn an_allocation_becomes_a_holding_job() {
        let map = PriorityMap { partitions: BTreeMap::from([("high".into(), "high".into())]), ..Default::default() };
        let job = job_request(&req(PriorityClass::High), &map, "/tmp");
        assert_eq!((job.cpus, job.gpus, job.memory_mb, job.time_limit_min), (4, 1, Some(3072), Some(2)));
        assert_eq!((job.partition.as_deref(), job.nice), (Some("high"), Some(0)), "raised by partition, not nice");
        assert!(job.requeue, "requeue preemption maps to a requeueable job");
        let low = job_request(&req(PriorityClass::Low), &map, "/tmp");
        assert_eq!((low.partition, low.nice), (None, Some(250)));
    }

    #[test]
    fn slurm_states_read_as_steward_states() {
        let mut job = Job {
            job_id: 7,
            array_job_id: None,
            array_task_id: None,
            name: "x".into(),
            user: "ana".into(),
            partition: "low".into(),
            state: vec!["pending".into()],
            reason: Some("Priority".into()),
            priority: Some(1),
            nodes: None,
            cpus: Some(2),
            restarts: 1,
            submit_time: Some(100),
            start_time: None,
            end_time: None,
            reservation: None,
            exit_code: None,
            comment: None,
        };
        let a = allocation(&job, None, 0);
        assert_eq!(a.state, AllocState::Pending);
        assert_eq!(a.pending_reason.as_deref(), Some("higher-priority jobs are ahead (Slurm: Priority)"));
        assert_eq!((a.preemptions, a.submitted_time), (1, 100_000));
        job.state = vec!["timeout".into()];
        assert_eq!(state(&job), (AllocState::Finished, Some("ended in Slurm: timeout".into())));
    }
}
