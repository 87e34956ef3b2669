//! Remote nodes' snapshots on their way to history: flattened with the same `series::flatten`
//! as the local node, named under `node.<id>.`, and buffered until the sampling loop's next
//! batch write, so remote and local history share one ingest path and one transaction every
//! few seconds (rollups and retention then treat them alike).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use steward_core::Snapshot;
use steward_core::energy::intervals::IntervalJoules;
use steward_core::series::{SeriesValue, flatten, node_series};

/// Enough for minutes of a dozen nodes at one snapshot per second; past it the oldest go (the
/// store has been failing or the loop stalled: keeping memory bounded matters more).
const MAX_PENDING: usize = 10_000;

pub(crate) struct Pending {
    queue: Mutex<Queue>,
    /// Record a node's snapshot at most this often: the local sampler's interval in its current
    /// mode, so a remote node's history is as fine as the local one and no finer (agents stream
    /// every second whatever the mode).
    every_ms: AtomicI64,
}

#[derive(Default)]
struct Queue {
    buf: Vec<(i64, Vec<SeriesValue>)>,
    last: HashMap<String, i64>,
    /// Energy between the snapshots recorded (skipped ones included).
    joules: IntervalJoules,
}

impl Default for Pending {
    fn default() -> Self {
        Pending { queue: Mutex::default(), every_ms: AtomicI64::new(1_000) }
    }
}

impl Pending {
    pub(crate) fn set_interval(&self, ms: i64) {
        self.every_ms.store(ms, Ordering::Relaxed);
    }

    /// Queues `snap` of node `id`, stamped `now_ms`: the control center's clock orders all
    /// history (agents' clocks may be skewed), and a snapshot is on the wire for milliseconds.
    /// Skipped when the node's last recorded one is more recent than the interval (less a tenth,
    /// for the stream's jitter).
    pub(crate) fn record(&self, id: &str, now_ms: i64, snap: &Snapshot) {
        let every = self.every_ms.load(Ordering::Relaxed);
        let mut q = self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if q.last.get(id).is_some_and(|&t| now_ms - t < every - every / 10) {
            return;
        }
        q.last.insert(id.to_string(), now_ms);
        let mut values: Vec<SeriesValue> = flatten(snap)
            .into_iter()
            .map(|v| SeriesValue { series: node_series(id, &v.series), value: v.value })
            .collect();
        q.joules.derive(&mut values);
        if q.buf.len() >= MAX_PENDING {
            q.buf.remove(0);
        }
        q.buf.push((now_ms, values));
    }

    /// Everything queued so far, oldest first.
    pub(crate) fn take(&self) -> Vec<(i64, Vec<SeriesValue>)> {
        std::mem::take(&mut self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).buf)
    }
}

#[cfg(test)]
mod tests {
    use steward_core::{MemoryStats, Reading};

    use super::*;

    #[test]
    fn snapshots_are_named_under_the_node_and_drained_once() {
        let p = Pending::default();
        let mut s = Snapshot::empty(5);
        s.memory = Reading::from(MemoryStats {
            total_bytes: 10,
            used_bytes: 4,
            available_bytes: 6,
            swap_total_bytes: 0,
            swap_used_bytes: 0,
        });
        p.record("10.0.0.2:7879", 1_000, &s);
        let got = p.take();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 1_000);
        let names: Vec<(&str, f64)> = got[0].1.iter().map(|v| (v.series.as_str(), v.value)).collect();
        assert!(names.contains(&("node.10.0.0.2:7879.mem.used", 4.0)), "{names:?}");
        assert!(names.iter().all(|(n, _)| n.starts_with("node.10.0.0.2:7879.")));
        assert!(p.take().is_empty());
    }

    #[test]
    fn a_node_is_recorded_at_most_once_per_interval() {
        let p = Pending::default();
        p.set_interval(5_000);
        let s = Snapshot::empty(0);
        for (id, t) in [("a:1", 0), ("a:1", 1_000), ("b:1", 1_000), ("a:1", 4_600), ("a:1", 9_000)] {
            p.record(id, t, &s);
        }
        let at: Vec<i64> = p.take().into_iter().map(|(t, _)| t).collect();
        // 4.6 s is within the tenth of jitter allowed; 9.0 s is too early after it.
        assert_eq!(at, [0, 1_000, 4_600]);
    }
}
