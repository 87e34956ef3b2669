//! Events from job state changes: Slurm keeps no feed Steward can follow through slurmrestd, so
//! the backend polls the queue and turns the difference between two polls into the same events
//! the native engine writes (`queued`, `allocated`, `requeue`, `ended`, `cancelled`).

use std::collections::BTreeMap;

use steward_core::alloc::{AllocState, Event};

use crate::mapping::state;
use crate::model::Job;

/// What changed from `before` to `after`, stamped `now_ms`. Ids are left 0 for the store to
/// number. A job that left the queue between polls (purged after `MinJobAge`) says nothing.
pub fn between(before: &[Job], after: &[Job], now_ms: i64) -> Vec<Event> {
    let old: BTreeMap<u64, &Job> = before.iter().map(|j| (j.job_id, j)).collect();
    after.iter().filter_map(|job| change(old.get(&job.job_id).copied(), job, now_ms)).collect()
}

fn change(old: Option<&Job>, new: &Job, now_ms: i64) -> Option<Event> {
    let (now_state, why) = state(new);
    let kind = match old {
        None => match now_state {
            AllocState::Running => "allocated",
            AllocState::Pending => "queued",
            _ => return None,
        },
        Some(old) if new.restarts > old.restarts => "requeue",
        Some(old) => {
            let (was, _) = state(old);
            if was == now_state {
                return None;
            }
            match now_state {
                AllocState::Running => "allocated",
                AllocState::Pending | AllocState::Suspended => "queued",
                AllocState::Cancelled => "cancelled",
                AllocState::Preempted | AllocState::Finished => "ended",
            }
        }
    };
    let mut details = BTreeMap::from([("slurm_job_id".to_string(), new.job_id.to_string())]);
    if let Some(nodes) = &new.nodes {
        details.insert("node".into(), nodes.clone());
    }
    let message = match (&why, kind) {
        (_, "requeue") => format!("Slurm requeued job {} (restart {})", new.job_id, new.restarts),
        (Some(why), _) => format!("job {}: {why}", new.job_id),
        (None, _) => format!("job {} {kind}", new.job_id),
    };
    Some(Event { id: 0, time: now_ms, kind: kind.into(), subject: format!("slurm-{}", new.job_id), message, details })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, state: &str, restarts: u64) -> Job {
        Job {
            job_id: id,
            array_job_id: None,
            array_task_id: None,
            name: "j".into(),
            user: "u".into(),
            partition: "low".into(),
            state: vec![state.into()],
            reason: (state == "pending").then(|| "Resources".into()),
            priority: None,
            nodes: (state == "running").then(|| "n1".into()),
            cpus: Some(1),
            restarts,
            submit_time: None,
            start_time: None,
            end_time: None,
            reservation: None,
            exit_code: None,
            comment: None,
        }
    }

    #[test]
    fn a_preemption_reads_as_a_requeue_and_nothing_repeats() {
        let t0 = [job(1, "running", 0)];
        let t1 = [job(1, "pending", 1), job(2, "running", 0)];
        let events = between(&t0, &t1, 5);
        let kinds: Vec<(&str, &str)> = events.iter().map(|e| (e.kind.as_str(), e.subject.as_str())).collect();
        assert_eq!(kinds, [("requeue", "slurm-1"), ("allocated", "slurm-2")]);
        assert!(between(&t1, &t1, 6).is_empty(), "no change, no event");
        let t2 = [job(1, "running", 1), job(2, "completed", 0)];
        let kinds: Vec<String> = between(&t1, &t2, 7).into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["allocated", "ended"]);
    }
}
