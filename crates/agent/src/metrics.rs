//! This node's telemetry for the metrics stream and `/metrics`: one sampler thread (collectors
//! block), its latest snapshot serialized once and shared by every stream, and the same snapshot
//! (with the sampler's cost meter) for scrapes.
//!
//! The priming sample is sent too, its rates marked unavailable, so a freshly dialled node shows
//! its resources (and can take work) at once instead of a sampling interval later.

use std::sync::Arc;
use std::time::Duration;

use steward_core::Snapshot;
use steward_telemetry::{CostMeter, Sampler, SamplerConfig};
use tokio::sync::watch;

/// The latest snapshot as JSON, numbered; `None` before the first.
pub type Latest = watch::Receiver<Option<(u64, Arc<Vec<u8>>)>>;

/// The latest snapshot itself; `None` before the first.
pub type LatestSnapshot = watch::Receiver<Option<Arc<Snapshot>>>;

pub const SAMPLE_EVERY: Duration = Duration::from_millis(1000);

/// What the sampler thread publishes.
pub struct Sampling {
    pub latest: Latest,
    pub snapshot: LatestSnapshot,
    pub cost: CostMeter,
}

/// Starts sampling every second on its own thread.
pub fn start(config: SamplerConfig) -> Sampling {
    let (tx, latest) = watch::channel(None);
    let (snap_tx, snapshot) = watch::channel(None);
    let mut sampler = Sampler::new(&config);
    let cost = sampler.cost_meter();
    let _ = std::thread::Builder::new().name("stewardd-sampler".into()).spawn(move || {
        // The first tick primes rates (CPU %, IO/s need two samples: they say so until the next),
        // and is sent all the same: it carries the GPUs and memory, and a node takes dispatched
        // work once its first snapshot is in — at once, not a sampling interval after it starts.
        let mut snap = sampler.tick(crate::tasks::now_ms());
        let mut seq = 0u64;
        loop {
            if let Ok(json) = serde_json::to_vec(&snap) {
                seq += 1;
                if tx.send(Some((seq, Arc::new(json)))).is_err() {
                    return;
                }
            }
            snap_tx.send_replace(Some(Arc::new(snap)));
            std::thread::sleep(SAMPLE_EVERY);
            snap = sampler.tick(crate::tasks::now_ms());
        }
    });
    Sampling { latest, snapshot, cost }
}
