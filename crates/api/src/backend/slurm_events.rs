//! Events from Slurm: a thread polls the queue and writes what changed between polls to the
//! store, so `/api/events` shows them after a control-center restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use steward_core::alloc::Event;
use steward_slurm::SlurmClient;
use steward_slurm::model::Job;

use crate::ApiError;
use crate::store_handle::StoreHandle;

pub struct EventLog {
    store: StoreHandle,
    stop: AtomicBool,
}

impl EventLog {
    pub fn new(store: StoreHandle) -> EventLog {
        EventLog { store, stop: AtomicBool::new(false) }
    }

    pub fn newest(&self, kind: Option<&str>, limit: usize) -> Result<Vec<Event>, ApiError> {
        Ok(self.store.lock()?.backend_events(kind, limit)?)
    }

    pub fn push(&self, new: Vec<Event>) -> Result<(), ApiError> {
        self.store.lock()?.add_backend_events(new)?;
        Ok(())
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Polls every `every` until the log is stopped; a failed poll is skipped (and logged), the next
/// one compares with the last good one, so nothing is reported twice.
pub fn spawn_poller(client: SlurmClient, log: Arc<EventLog>, every: Duration, now_ms: fn() -> i64) {
    std::thread::Builder::new()
        .name("slurm-events".into())
        .spawn(move || {
            let mut last: Option<Vec<Job>> = None;
            while !log.stop.load(Ordering::Relaxed) {
                match client.jobs() {
                    Ok(jobs) => {
                        if let Some(before) = &last
                            && let Err(e) = log.push(steward_slurm::events::between(before, &jobs, now_ms()))
                        {
                            tracing::warn!("storing Slurm's events failed: {e}");
                        }
                        last = Some(jobs);
                    }
                    Err(e) => tracing::warn!("polling Slurm's queue failed: {e}"),
                }
                std::thread::sleep(every);
            }
        })
        .expect("spawning the Slurm poller");
}
