//! The background thread that samples this node, publishes live snapshots and writes history.
//!
//! Collectors do blocking file and library I/O, so the loop is a plain thread, not a task.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use steward_core::energy::intervals::IntervalJoules;
use steward_core::series::{SeriesValue, flatten};
use steward_telemetry::Sampler;

use crate::clock::now_ms;
use crate::service::Shared;

/// Samples are written in batches: one transaction per few seconds keeps the sampler cheap.
const FLUSH_EVERY_MS: i64 = 5_000;

pub(crate) fn run(shared: Arc<Shared>, mut sampler: Sampler, wake: Receiver<()>) {
    let mut pending: Vec<(i64, Vec<SeriesValue>)> = Vec::new();
    let mut last_flush = now_ms();
    let mut last_maintenance: Option<i64> = None;
    let mut joules = IntervalJoules::default();
    // Rates (CPU %, IO/s) need two samples: take a first one now, unpublished, so the first
    // published snapshot (one interval later) already has them.
    let first = now_ms();
    sampler.tick(first);
    let due = sampler.next_due_ms().unwrap_or(first + 1_000);
    while now_ms() < due {
        if !wait(&wake, due - now_ms()) || shared.is_stopping() {
            return;
        }
    }
    loop {
        let mode = shared.sampling_mode();
        sampler.set_mode(mode.telemetry_mode());
        shared.cluster.set_history_interval(crate::SamplingState::of(mode).interval_ms.into());
        let now = now_ms();
        let snapshot = Arc::new(sampler.tick(now));
        let mut values = flatten(&snapshot);
        // Profiling reuses this sample: module usage joins history, findings become events.
        let (module_series, events) = shared.profiler.observe(&snapshot, mode, values.len());
        values.extend(module_series);
        joules.derive(&mut values);
        shared.record_profile_events(&events);
        pending.push((now, values));
        shared.publish(snapshot);

        if now - last_flush >= FLUSH_EVERY_MS || shared.is_stopping() {
            // Remote nodes' snapshots go into the same batch (one transaction).
            pending.extend(shared.cluster.take_history());
            shared.write_history(&pending);
            pending.clear();
            last_flush = now;
        }
        if last_maintenance.is_none_or(|t| now - t >= shared.config.maintenance_interval_ms) {
            shared.maintain(now);
            last_maintenance = Some(now);
        }
        if shared.is_stopping() {
            return;
        }
        let next_due = sampler.next_due_ms().unwrap_or(now + 1_000);
        if !wait(&wake, next_due - now_ms()) {
            pending.extend(shared.cluster.take_history());
            shared.write_history(&pending);
            return;
        }
    }
}

/// Sleeps up to `ms`, waking early on a mode change or stop request. False when the service
/// handle is gone.
fn wait(wake: &Receiver<()>, ms: i64) -> bool {
    match wake.recv_timeout(Duration::from_millis(ms.clamp(10, 60_000) as u64)) {
        Ok(()) | Err(RecvTimeoutError::Timeout) => true,
        Err(RecvTimeoutError::Disconnected) => false,
    }
}
