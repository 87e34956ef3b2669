//! Level shifts: jumps that errors of past forecasts at a similar level cannot size for. While a
//! series sits at one level, the forecasts nearest to it in value come from that same stay,
//! which has not ended yet, so none of their errors is the jump that will end it; a jump's risk
//! is per unit of time, not per level. A surprise (an outcome outside every error of the
//! forecasts near it) counts as a shift when the values of the following horizon stay at least
//! half way to it; an excursion that returns does not. The share of outcomes that were shifts
//! and the levels they settled at (without the season) say how often the series jumps and where
//! to; `shift_cover` decides, per origin, how much of that to cover.

use std::collections::VecDeque;

use super::quantiles::{quantile_sorted, quantile_unsorted};

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

/// A confirmed shift: the outcome at step `t` left the level `from` and settled at `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shift {
    t: usize,
    from: f64,
    to: f64,
}

/// Where recent shifts settled, and how likely the next one is to land higher than any level
/// seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Destinations {
    /// Evenly spaced quantiles (the lowest to the highest) of the levels shifts settled at.
    pub quantiles: Vec<f64>,
    /// One spacing above the highest level seen (left or settled at): the range of those levels
    /// over the gaps between them.
    pub above: f64,
    /// The chance that the next shift lands above every level seen: with `n` shifts, `n + 1`
    /// levels were seen, and a new one drawn like them is the highest with chance `1 / (n + 2)`.
    pub above_share: f64,
}

#[derive(Debug, Clone)]
pub struct LevelShifts {
    capacity: usize,
    horizon: usize,
    /// Classified outcomes, oldest first: a confirmed shift, or `None`.
    outcomes: VecDeque<Option<Shift>>,
    shifts: usize,
    waiting: VecDeque<Surprise>,
    /// The last `horizon` values without their season.
    recent: VecDeque<f64>,
}

impl LevelShifts {
    /// Over the last `capacity` outcomes; a surprise is judged on the `horizon` values after it.
    pub fn new(capacity: usize, horizon: usize) -> Self {
        LevelShifts {
            capacity: capacity.max(1),
            horizon: horizon.max(1),
            outcomes: VecDeque::new(),
            shifts: 0,
            waiting: VecDeque::new(),
            recent: VecDeque::new(),
        }
    }

    /// The outcome at step `t` matured: `surprise` is `(level at its origin, outcome − forecast)`
    /// when it fell outside every error of the forecasts near its own.
    pub fn outcome(&mut self, t: usize, surprise: Option<(f64, f64)>) {
        match surprise {
            Some((level, jump)) if jump != 0.0 => {
                self.waiting.push_back(Surprise { due: t + self.horizon, level, jump });
            }
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
            self.classified(settled.map(|to| Shift { t: s.due - self.horizon, from: s.level, to }));
        }
    }

    fn classified(&mut self, shift: Option<Shift>) {
        self.shifts += usize::from(shift.is_some());
        self.outcomes.push_back(shift);
        if self.outcomes.len() > self.capacity && self.outcomes.pop_front().flatten().is_some() {
            self.shifts -= 1;
        }
    }

    /// Share of classified outcomes that were level shifts.
    pub fn rate(&self) -> f64 {
        if self.outcomes.is_empty() { 0.0 } else { self.shifts as f64 / self.outcomes.len() as f64 }
    }

    /// Where the recent shifts settled (without the season), as `k ≥ 1` quantiles; `None`
    /// when none was seen. The outcomes one jump changed count as one shift.
    pub fn destinations(&self, k: usize) -> Option<Destinations> {
        let shifts: Vec<Shift> = self.outcomes.iter().flatten().copied().collect();
        let mut to: Vec<f64> = shifts.iter().map(|s| s.to).collect();
        to.sort_unstable_by(f64::total_cmp);
        let quantiles = (0..k.max(1))
            .map(|i| quantile_sorted(&to, if k <= 1 { 1.0 } else { i as f64 / (k - 1) as f64 }))
            .collect::<Option<_>>()?;
        // Outcomes of one jump are confirmed at consecutive steps: a gap of more than the
        // horizon starts another.
        let jumps = 1 + shifts.windows(2).filter(|w| w[1].t > w[0].t + self.horizon).count();
        let (low, high) = shifts
            .iter()
            .flat_map(|s| [s.from, s.to])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        Some(Destinations {
            quantiles,
            above: high + (high - low) / jumps as f64,
            above_share: 1.0 / (jumps + 2) as f64,
        })
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
        let d = s.destinations(3).unwrap();
        assert_eq!(d.quantiles, vec![70.0; 3]);
        // One jump from 20 to 70: the next may land a jump's length higher, with chance 1/3.
        assert_eq!((d.above, d.above_share), (120.0, 1.0 / 3.0));
    }

    #[test]
    fn each_jump_counts_once_however_many_outcomes_it_changed() {
        let y: Vec<f64> = [20.0, 70.0, 20.0, 45.0].iter().flat_map(|&l| [l; 50]).collect();
        let d = replay(&y, 20.0, 3.0).destinations(2).unwrap();
        assert_eq!(d.quantiles, vec![45.0, 70.0]);
        // Levels 20, 45 and 70 seen over two jumps: 25 apart on average.
        assert_eq!((d.above, d.above_share), (95.0, 0.25));
    }

    #[test]
    fn a_spike_that_returns_is_not() {
        let mut y = vec![20.0; 50];
        y[25] = 70.0;
        y[26] = 65.0;
        let s = replay(&y, 20.0, 3.0);
        assert_eq!(s.rate(), 0.0);
        assert_eq!(s.destinations(3), None);
    }

    #[test]
    fn a_shift_that_returns_later_is_still_one() {
        let mut y = vec![20.0; 200];
        y.extend([70.0; 10]);
        y.extend([20.0; 200]);
        let s = replay(&y, 20.0, 3.0);
        let rate = s.rate();
        assert!(rate > 0.0 && rate < 0.05, "{rate}");
        assert_eq!(s.destinations(1).unwrap().quantiles, vec![70.0]);
    }
}
