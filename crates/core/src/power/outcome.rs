//! The measured outcome of an applied plan: energy per unit of work before against after.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Average throughput and power over one measuring window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Measurement {
    pub throughput: f64,
    pub power_w: f64,
    pub seconds: f64,
}

/// Measured saving and slowdown, beside what the plan estimated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Outcome {
    pub before: Measurement,
    pub after: Measurement,
    pub measured_saving_pct: f64,
    pub measured_slowdown_pct: f64,
}

impl Outcome {
    /// `None` when either window saw no progress: no ratio can be honest then.
    pub fn of(before: Measurement, after: Measurement) -> Option<Outcome> {
        if [before.throughput, after.throughput].iter().any(|t| t.is_nan() || *t <= 0.0) {
            return None;
        }
        let (e0, e1) = (before.power_w / before.throughput, after.power_w / after.throughput);
        Some(Outcome {
            before,
            after,
            measured_saving_pct: 100.0 * (1.0 - e1 / e0),
            measured_slowdown_pct: 100.0 * (before.throughput / after.throughput - 1.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saving_and_slowdown_compare_energy_and_time_per_unit() {
        let m = |throughput, power_w| Measurement { throughput, power_w, seconds: 5.0 };
        let o = Outcome::of(m(10.0, 200.0), m(9.0, 150.0)).unwrap();
        assert!((o.measured_saving_pct - 100.0 * (1.0 - (150.0 / 9.0) / 20.0)).abs() < 1e-9);
        assert!((o.measured_slowdown_pct - 100.0 * (10.0 / 9.0 - 1.0)).abs() < 1e-9);
        assert!(Outcome::of(m(0.0, 200.0), m(9.0, 150.0)).is_none());
    }
}
