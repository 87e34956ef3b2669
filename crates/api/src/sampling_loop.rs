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
use crate::cluster::Cluster;
use crate::history_writer::HistoryWriter;
use crate::live_feed::LiveFeed;
use crate::profile::Profiling;
use crate::stop_signal::StopSignal;

/// Samples are written in batches: one transaction per few seconds keeps the sampler cheap.
const FLUSH_EVERY_MS: i64 = 5_000;

/// What the loop works with.
pub(crate) struct SamplingContext {
    pub(crate) live: Arc<LiveFeed>,
    pub(crate) history: Arc<HistoryWriter>,
    /// Fed every sample (module usage, bottleneck events).
    pub(crate) profiling: Arc<Profiling>,
    /// Remote nodes' snapshots join the local history batch.
    pub(crate) cluster: Arc<Cluster>,
    pub(crate) stop: StopSignal,
    pub(crate) maintenance_interval_ms: i64,
}

pub(crate) fn run(ctx: SamplingContext, mut sampler: Sampler, wake: Receiver<()>) {
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
        if !wait(&wake, due - now_ms()) || ctx.stop.is_raised() {
            return;
        }
    }
    loop {
        let mode = ctx.live.sampling_mode();
        sampler.set_mode(mode.telemetry_mode());
        ctx.cluster.set_history_interval(crate::SamplingState::of(mode).interval_ms.into());
        let now = now_ms();
        let snapshot = Arc::new(sampler.tick(now));
        let mut values = flatten(&snapshot);
        // Profiling reuses this sample: module usage joins history, findings become events.
        let (module_series, events) = ctx.profiling.profiler.observe(&snapshot, mode, values.len());
        values.extend(module_series);
        joules.derive(&mut values);
        ctx.profiling.record_events(&events);
        pending.push((now, values));
        ctx.live.publish(snapshot);

        if now - last_flush >= FLUSH_EVERY_MS || ctx.stop.is_raised() {
            // Remote nodes' snapshots go into the same batch (one transaction).
            pending.extend(ctx.cluster.take_history());
            ctx.history.write(&pending);
            pending.clear();
            last_flush = now;
        }
        if last_maintenance.is_none_or(|t| now - t >= ctx.maintenance_interval_ms) {
            ctx.history.maintain(now);
            last_maintenance = Some(now);
        }
        if ctx.stop.is_raised() {
            return;
        }
        let next_due = sampler.next_due_ms().unwrap_or(now + 1_000);
        if !wait(&wake, next_due - now_ms()) {
            pending.extend(ctx.cluster.take_history());
            ctx.history.write(&pending);
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
