//! Remote nodes' snapshots on their way to history: flattened with the same `series::flatten`
//! as the local node, named under `node.<id>.`, and buffered until the sampling loop's next
//! batch write, so remote and local history share one ingest path and one transaction every
//! few seconds (rollups and retention then treat them alike).

use std::sync::Mutex;

use steward_core::Snapshot;
use steward_core::series::{SeriesValue, flatten, node_series};

/// Enough for minutes of a dozen nodes at one snapshot per second; past it the oldest go (the
/// store has been failing or the loop stalled: keeping memory bounded matters more).
const MAX_PENDING: usize = 10_000;

#[derive(Default)]
pub(crate) struct Pending {
    buf: Mutex<Vec<(i64, Vec<SeriesValue>)>>,
}

impl Pending {
    /// Queues `snap` of node `id`, stamped `now_ms`: the control center's clock orders all
    /// history (agents' clocks may be skewed), and a snapshot is on the wire for milliseconds.
    pub(crate) fn record(&self, id: &str, now_ms: i64, snap: &Snapshot) {
        let values: Vec<SeriesValue> =
            flatten(snap).into_iter().map(|v| SeriesValue { series: node_series(id, &v.series), value: v.value }).collect();
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        if buf.len() >= MAX_PENDING {
            buf.remove(0);
        }
        buf.push((now_ms, values));
    }

    /// Everything queued so far, oldest first.
    pub(crate) fn take(&self) -> Vec<(i64, Vec<SeriesValue>)> {
        std::mem::take(&mut *self.buf.lock().unwrap_or_else(|e| e.into_inner()))
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
        s.memory = Reading::from(MemoryStats { total_bytes: 10, used_bytes: 4, available_bytes: 6, swap_total_bytes: 0, swap_used_bytes: 0 });
        p.record("10.0.0.2:7879", 1_000, &s);
        let got = p.take();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 1_000);
        let names: Vec<(&str, f64)> = got[0].1.iter().map(|v| (v.series.as_str(), v.value)).collect();
        assert!(names.contains(&("node.10.0.0.2:7879.mem.used", 4.0)), "{names:?}");
        assert!(names.iter().all(|(n, _)| n.starts_with("node.10.0.0.2:7879.")));
        assert!(p.take().is_empty());
    }
}
