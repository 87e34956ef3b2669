//! Events from Slurm: a thread polls the queue and keeps what changed between polls (the newest
//! `KEPT`), numbered in order. They are not written to the database: Slurm's own records
//! (slurmctld's state and, where configured, slurmdbd) are the durable history.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use steward_core::alloc::Event;
use steward_slurm::SlurmClient;
use steward_slurm::model::Job;

const KEPT: usize = 10_000;

#[derive(Default)]
pub struct EventLog {
    events: Mutex<VecDeque<Event>>,
    stop: AtomicBool,
}

impl EventLog {
    pub fn newest(&self, kind: Option<&str>, limit: usize) -> Vec<Event> {
        let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        events.iter().rev().filter(|e| kind.is_none_or(|k| e.kind == k)).take(limit).cloned().collect()
    }

    pub fn push(&self, new: Vec<Event>) {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        for mut e in new {
            e.id = events.back().map_or(1, |last| last.id + 1);
            if events.len() == KEPT {
                events.pop_front();
            }
            events.push_back(e);
        }
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
                        if let Some(before) = &last {
                            log.push(steward_slurm::events::between(before, &jobs, now_ms()));
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
