//! Level shifts: jumps that errors of past forecasts at a similar level cannot size for. While a
//! series sits at one level, the forecasts nearest to it in value come from that same stay,
//! which has not ended yet, so none of their errors is the jump that will end it; a jump's risk
//! is per unit of time, not per level. A surprise (an outcome outside every error of the
//! forecasts near it) counts as a shift when the values of the following horizon stay at least
//! half way to it; an excursion that returns does not. The share of outcomes that were shifts
//! and the levels they settled at (without the season) say how often the series jumps and where
//! to; the engine covers those levels when shifts are more frequent than the misses it may make.

use std::collections::VecDeque;

use super::quantiles::quantile_unsorted;

/// A shift settles at least this share of the way from the origin's level to the surprise.
const SETTLED_SHARE: f64 = 0.5;

/// An outcome outside every error of the forecasts near its own, waiting to be confirmed.
#[derive(Debug, Clone, Copy)]
struct Surprise {
    /// Step at which the following horizon of values is in.
    due: usize,
    /// The model's level (no season, no trend) at the origin.
    level: f64,
    /// Outcome − forecast.
    jump: f64,
}

#[derive(Debug, Clone)]
pub struct LevelShifts {
    capacity: usize,
    horizon: usize,
    /// Classified outcomes, oldest first: the level a confirmed shift settled at, or `None`.
    outcomes: VecDeque<Option<f64>>,
    shifts: usize,
    waiting: VecDeque<Surprise>,
    /// The last `horizon` values without their season.
    recent: VecDeque<f64>,
}

impl LevelShifts {
    /// Over the last `capacity` outcomes; a surprise is judged on the `horizon` values after it.
    pub fn new(capacity: usize, horizon: usize) -> Self {
        LevelShifts { capacity: capacity.max(1), horizon: horizon.max(1), outcomes: VecDeque::new(), shifts: 0, waiting: VecDeque::new(), recent: VecDeque::new() }
    }

    /// The outcome at step `t` matured: `surprise` is `(level at its origin, outcome − forecast)`
    /// when it fell outside every error of the forecasts near its own.
    pub fn outcome(&mut self, t: usize, surprise: Option<(f64, f64)>) {
        match surprise {
            Some((level, jump)) if jump != 0.0 => self.waiting.push_back(Surprise { due: t + self.horizon, level, jump }),
            _ => self.classified(None),
        }
    }

    /// The value at step `t` without its season; surprises whose horizon is in are judged.
    pub fn observe(&mut self, t: usize, deseasonalized: f64) {
        if !deseasonalized.is_finite() {
            return;
        }
        self.recent.push_back(deseasonalized);
        if self.recent.len() > self.horizon {
            self.recent.pop_front();
        }
        while let Some(s) = self.waiting.front().copied().filter(|s| s.due <= t) {
            self.waiting.pop_front();
            let mut after: Vec<f64> = self.recent.iter().copied().collect();
            let settled = quantile_unsorted(&mut after, 0.5).filter(|m| (m - s.level) / s.jump >= SETTLED_SHARE);
            self.classified(settled);
        }
    }

    fn classified(&mut self, destination: Option<f64>) {
        self.shifts += usize::from(destination.is_some());
        self.outcomes.push_back(destination);
        if self.outcomes.len() > self.capacity && self.outcomes.pop_front().flatten().is_some() {
            self.shifts -= 1;
        }
    }

    /// Share of classified outcomes that were level shifts.
    pub fn rate(&self) -> f64 {
        if self.outcomes.is_empty() { 0.0 } else { self.shifts as f64 / self.outcomes.len() as f64 }
    }

    /// The level (without season) to cover so that shifts landing above it make at most
    /// `miss_share` of outcomes: the destinations' `1 − miss_share / rate` quantile; `None` when
    /// shifts are no more frequent than that.
    pub fn cover(&self, miss_share: f64) -> Option<f64> {
        let rate = self.rate();
        if rate <= miss_share.max(0.0) {
            return None;
        }
        let mut destinations: Vec<f64> = self.outcomes.iter().flatten().copied().collect();
        quantile_unsorted(&mut destinations, 1.0 - miss_share.max(0.0) / rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `values` as outcomes of a flat forecast at `level`: each value outside ±`band` is a
    /// surprise.
    fn replay(values: &[f64], level: f64, band: f64) -> LevelShifts {
        let mut s = LevelShifts::new(1000, 5);
        for (t, &y) in values.iter().enumerate() {
            s.outcome(t, ((y - level).abs() > band).then_some((level, y - level)));
            s.observe(t, y);
        }
        s
    }

    #[test]
    fn a_jump_that_stays_is_a_shift_to_its_new_level() {
        let mut y = vec![20.0; 50];
        y.extend([70.0; 50]);
        let s = replay(&y, 20.0, 3.0);
        assert!(s.rate() > 0.0);
        assert_eq!(s.cover(0.0), Some(70.0));
    }

    #[test]
    fn a_spike_that_returns_is_not() {
        let mut y = vec![20.0; 50];
        y[25] = 70.0;
        y[26] = 65.0;
        let s = replay(&y, 20.0, 3.0);
        assert_eq!(s.rate(), 0.0);
        assert_eq!(s.cover(0.0), None);
    }

    #[test]
    fn rare_shifts_need_no_cover_at_a_larger_miss_share() {
        let mut y = vec![20.0; 200];
        y.extend([70.0; 10]);
        y.extend([20.0; 200]);
        let s = replay(&y, 20.0, 3.0);
        let rate = s.rate();
        assert!(rate > 0.0 && rate < 0.05, "{rate}");
        assert_eq!(s.cover(0.05), None);
        assert_eq!(s.cover(0.0), Some(70.0));
    }
}
