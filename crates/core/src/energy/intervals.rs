//! Per-interval joules for history, from the cumulative `energy.*.cum_j` series.
//!
//! History records a node's snapshot at most once per interval (remote nodes stream faster),
//! so per-interval energy is the difference of cumulative counters between *recorded*
//! snapshots: nothing is lost when snapshots are skipped, and rollups add intervals up (`sum`).

use std::collections::HashMap;

use crate::series::SeriesValue;

const CUMULATIVE: &str = ".cum_j";
const INTERVAL: &str = ".j";

/// The last recorded cumulative value of every `*.cum_j` series (any node).
#[derive(Debug, Default)]
pub struct IntervalJoules {
    last: HashMap<String, f64>,
}

impl IntervalJoules {
    /// Appends `<name>.j` beside every `<name>.cum_j` in `values`: joules since the series was
    /// last recorded. The first record of a series has no interval (what came before is not
    /// known to this control center); a counter that went back means the meter restarted, and its
    /// whole value is the interval.
    pub fn derive(&mut self, values: &mut Vec<SeriesValue>) {
        let mut added = Vec::new();
        for v in values.iter().filter(|v| v.series.ends_with(CUMULATIVE)) {
            if let Some(prev) = self.last.insert(v.series.clone(), v.value) {
                let joules = if v.value >= prev { v.value - prev } else { v.value };
                let base = &v.series[..v.series.len() - CUMULATIVE.len()];
                added.push(SeriesValue { series: format!("{base}{INTERVAL}"), value: joules });
            }
        }
        values.extend(added);
    }
}

/// Whether `series` holds per-interval joules (to be summed, never averaged).
pub fn is_interval_series(series: &str) -> bool {
    series.ends_with(INTERVAL) && !series.ends_with(CUMULATIVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(series: &str, value: f64) -> SeriesValue {
        SeriesValue { series: series.into(), value }
    }

    #[test]
    fn differences_of_cumulative_counters_with_restarts() {
        let mut d = IntervalJoules::default();
        let mut first = vec![v("energy.measured.gpu.0.cum_j", 100.0), v("cpu.total", 3.0)];
        d.derive(&mut first);
        assert_eq!(first.len(), 2, "no interval on the first record");
        let mut second = vec![v("energy.measured.gpu.0.cum_j", 160.0)];
        d.derive(&mut second);
        assert_eq!(second[1], v("energy.measured.gpu.0.j", 60.0));
        // The agent restarted: its meter counts from 0 again.
        let mut third = vec![v("energy.measured.gpu.0.cum_j", 20.0)];
        d.derive(&mut third);
        assert_eq!(third[1], v("energy.measured.gpu.0.j", 20.0));
        assert!(is_interval_series("node.a:1.energy.measured.gpu.0.j"));
        assert!(!is_interval_series("energy.measured.gpu.0.cum_j"));
    }
}
