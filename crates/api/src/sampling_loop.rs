//! The background thread that samples this node, publishes live snapshots and writes history.
//!
//! Collectors do blocking file and library I/O, so the loop is a plain thread, not a task.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use steward_core::series::{SeriesValue, flatten};
use steward_telemetry::Sampler;

use crate::service::{Shared, now_ms};

/// Samples are written in batches: one transaction per few seconds keeps the sampler cheap.
const FLUSH_EVERY_MS: i64 = 5_000;

pub(crate) fn run(shared: Arc<Shared>, mut sampler: Sampler, wake: Receiver<()>) {
    let mut pending: Vec<(i64, Vec<SeriesValue>)> = Vec::new();
    let mut last_flush = now_ms();
    let mut last_maintenance = i64::MIN;
    loop {
        let mode = shared.sampling_mode();
        sampler.set_mode(mode.into());
        let now = now_ms();
        let snapshot = Arc::new(sampler.tick(now));
        pending.push((now, flatten(&snapshot)));
        shared.publish(snapshot, sampler.cheap_interval_ms(mode.into()));

        if now - last_flush >= FLUSH_EVERY_MS || shared.is_stopping() {
            shared.write_history(&pending);
            pending.clear();
            last_flush = now;
        }
        if now - last_maintenance >= shared.config.maintenance_interval_ms {
            shared.maintain(now);
            last_maintenance = now;
        }
        if shared.is_stopping() {
            return;
        }
        let sleep_ms = (sampler.next_due_ms() - now_ms()).clamp(10, 60_000) as u64;
        match wake.recv_timeout(Duration::from_millis(sleep_ms)) {
            // A mode change or stop request: re-evaluate at once.
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                shared.write_history(&pending);
                return;
            }
        }
    }
}
