//! The phi-accrual failure detector (Hayashibara et al.; the variant Akka and Cassandra use).
//!
//! Instead of a fixed timeout it says how unlikely the current silence is given the heartbeat
//! intervals seen so far: phi = -log10(P(an interval this long or longer)). Intervals are taken
//! as normal with the observed mean plus an acceptable pause and a floor on the deviation, so
//! very regular heartbeats do not make a short hiccup look fatal.

use std::collections::VecDeque;

#[derive(Debug, Clone, PartialEq)]
pub struct PhiConfig {
    /// The interval the agent is asked to send heartbeats at; seeds the estimate.
    pub expected_interval_ms: f64,
    /// Intervals remembered.
    pub window: usize,
    /// Floor on the standard deviation.
    pub min_std_ms: f64,
    /// Silence tolerated on top of the mean interval (GC, scheduling, a short stall).
    pub acceptable_pause_ms: f64,
    pub suspect_phi: f64,
    pub down_phi: f64,
}

impl Default for PhiConfig {
    /// Heartbeats every 500 ms. A 2 s stall (silence up to ~2.5 s) reaches at most "suspect";
    /// a frozen node is "down" about 3.1 s after its last heartbeat.
    fn default() -> Self {
        PhiConfig {
            expected_interval_ms: 500.0,
            window: 100,
            min_std_ms: 200.0,
            acceptable_pause_ms: 1500.0,
            suspect_phi: 1.0,
            down_phi: 8.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PhiDetector {
    config: PhiConfig,
    intervals: VecDeque<f64>,
    last_ms: Option<i64>,
}

impl PhiDetector {
    pub fn new(config: PhiConfig) -> Self {
        PhiDetector { config, intervals: VecDeque::new(), last_ms: None }
    }

    pub fn config(&self) -> &PhiConfig {
        &self.config
    }

    /// Records a heartbeat that arrived at `now_ms`.
    pub fn heartbeat(&mut self, now_ms: i64) {
        if let Some(last) = self.last_ms {
            self.intervals.push_back((now_ms - last).max(0) as f64);
            while self.intervals.len() > self.config.window {
                self.intervals.pop_front();
            }
        }
        self.last_ms = Some(now_ms);
    }

    /// Forgets the last arrival (a new connection starts a new silence), keeping the intervals.
    pub fn reset_arrival(&mut self) {
        self.last_ms = None;
    }

    pub fn last_heartbeat_ms(&self) -> Option<i64> {
        self.last_ms
    }

    /// Suspicion at `now_ms`; `None` before the first heartbeat.
    pub fn phi(&self, now_ms: i64) -> Option<f64> {
        let last = self.last_ms?;
        let (mean, std) = self.estimate();
        Some(phi(
            (now_ms - last).max(0) as f64,
            mean + self.config.acceptable_pause_ms,
            std.max(self.config.min_std_ms),
        ))
    }

    /// Mean and standard deviation of the intervals, seeded with the expected interval (and a
    /// quarter of it as deviation) until real ones arrive.
    fn estimate(&self) -> (f64, f64) {
        let seed = self.config.expected_interval_ms;
        if self.intervals.is_empty() {
            return (seed, seed / 4.0);
        }
        let n = self.intervals.len() as f64;
        let mean = self.intervals.iter().sum::<f64>() / n;
        let var = self.intervals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }
}

/// -log10 of the normal tail beyond `elapsed`, by the logistic approximation of the normal CDF
/// (accurate to ~1e-4 and free of erf), as Akka computes it.
fn phi(elapsed: f64, mean: f64, std: f64) -> f64 {
    let y = (elapsed - mean) / std;
    let e = (-y * (1.5976 + 0.070566 * y * y)).exp();
    let p = if elapsed > mean { e / (1.0 + e) } else { 1.0 - 1.0 / (1.0 + e) };
    // The tail underflows to 0 far out: that is certainty, kept finite for comparisons and JSON.
    (-p.max(1e-300).log10()).clamp(0.0, 300.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn steady(n: usize, every: i64) -> (PhiDetector, i64) {
        let mut d = PhiDetector::new(PhiConfig::default());
        let mut t = 1_000_000;
        for _ in 0..n {
            d.heartbeat(t);
            t += every;
        }
        (d, t - every)
    }

    #[test]
    fn nothing_is_known_before_the_first_heartbeat() {
        assert_eq!(PhiDetector::new(PhiConfig::default()).phi(5), None);
    }

    #[test]
    fn the_issue_timings_hold_for_the_default_config() {
        let c = PhiConfig::default();
        let (d, last) = steady(60, 500);
        assert!(d.phi(last + 500).unwrap() < c.suspect_phi, "on time is up");
        // A 2 s stall right after a missed beat: ≤ 2.5 s of silence, plus slack for a loaded
        // machine, stays below "down".
        assert!(d.phi(last + 2_800).unwrap() < c.down_phi);
        // Frozen: down within 4 s of the stall even when the last beat came just before it,
        // with 0.5 s left for the evaluation tick and scheduling.
        assert!(d.phi(last + 3_500).unwrap() >= c.down_phi);
        // Jittery but alive heartbeats never look down.
        let mut j = PhiDetector::new(c.clone());
        let mut t = 0;
        for i in 0..100 {
            t += 400 + (i * 37 % 200);
            j.heartbeat(t);
        }
        assert!(j.phi(t + 600).unwrap() < c.suspect_phi);
    }

    #[test]
    fn a_new_connection_restarts_the_silence() {
        let (mut d, last) = steady(10, 500);
        d.reset_arrival();
        assert_eq!(d.phi(last + 60_000), None);
        d.heartbeat(last + 60_000);
        assert!(d.phi(last + 60_100).unwrap() < 1.0);
    }

    proptest! {
        #[test]
        fn phi_never_decreases_as_silence_grows(every in 50i64..5_000, n in 1usize..50, a in 0i64..60_000, b in 0i64..60_000) {
            let (d, last) = steady(n, every);
            let (lo, hi) = (a.min(b), a.max(b));
            let (p_lo, p_hi) = (d.phi(last + lo).unwrap(), d.phi(last + hi).unwrap());
            prop_assert!(p_lo.is_finite() && p_hi.is_finite() && p_lo >= 0.0);
            prop_assert!(p_hi >= p_lo - 1e-9, "{p_lo} > {p_hi}");
        }
    }
}
