//! What the control center's `/metrics` (`service/metrics_api.rs`) needs that no other part
//! keeps, and its small helpers.

use steward_telemetry::CostMeter;

/// What the metrics need that no other part keeps.
pub(crate) struct Metrics {
    /// The local sampler's meter (the sampler itself lives on the sampling thread).
    pub(crate) sampler_cost: CostMeter,
}

/// How many of each: a short list, in the order first seen.
pub(crate) fn tally<K: PartialEq>(items: impl Iterator<Item = K>) -> Vec<(K, usize)> {
    let mut counts: Vec<(K, usize)> = Vec::new();
    for k in items {
        match counts.iter_mut().find(|(c, _)| *c == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        }
    }
    counts
}
