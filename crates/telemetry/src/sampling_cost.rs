//! What sampling costs: runs and wall time per collector, shared with whoever reports it (the
//! `/metrics` endpoints). The sampler's schedule stays pure; only this meter reads a clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One collector's cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CollectorCost {
    pub runs: u64,
    pub busy: Duration,
}

/// Shared by the sampler (which records) and readers; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CostMeter(Arc<Mutex<Vec<(&'static str, CollectorCost)>>>);

impl CostMeter {
    /// Adds one tick's runs: one lock per tick, not per collector.
    pub(crate) fn record(&self, runs: &[(&'static str, Duration)]) {
        if runs.is_empty() {
            return;
        }
        let mut costs = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, busy) in runs {
            match costs.iter_mut().find(|(n, _)| n == name) {
                Some((_, c)) => {
                    c.runs += 1;
                    c.busy += *busy;
                }
                None => costs.push((name, CollectorCost { runs: 1, busy: *busy })),
            }
        }
    }

    /// Every collector that has run, in the order they first ran.
    pub fn read(&self) -> Vec<(&'static str, CollectorCost)> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}
