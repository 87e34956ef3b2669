//! Times of day when usage is exactly zero, day after day (a service scaled to nothing at
//! night): there the only honest size is zero. A size drawn from errors cannot say so — the
//! forecasts nearest a quiet night's include the ones just before usage resumes, and any size
//! above zero is all slack when nothing runs — so a time of day is judged on its own: quiet when
//! it, and the steps `margin` either side of it, were at zero on each of the last `days` days.

#[derive(Debug, Clone)]
pub struct QuietPhases {
    /// Per step of the cycle: how many days in a row it has been at zero, up to `days`.
    streak: Vec<u8>,
    days: u8,
    margin: usize,
    t: usize,
}

impl QuietPhases {
    /// `period` steps a cycle; `days` (≥ 1) quiet days in a row make a step of it quiet.
    pub fn new(period: usize, days: u8, margin: usize) -> Self {
        QuietPhases {
            streak: vec![0; period.max(1)],
            days: days.max(1),
            margin: margin.min(period.saturating_sub(1) / 2),
            t: 0,
        }
    }

    /// The next value of the series.
    pub fn observe(&mut self, y: f64) {
        let i = self.t % self.streak.len();
        self.streak[i] = if y == 0.0 { self.streak[i].saturating_add(1).min(self.days) } else { 0 };
        self.t += 1;
    }

    /// Whether the value `k ≥ 1` steps after the last observed one falls in a quiet time of day
    /// (`k + margin` within a cycle: the days before are the ones seen).
    pub fn quiet_ahead(&self, k: usize) -> bool {
        // A streak counts days already seen, so a time of day not yet seen `days` times is not quiet.
        let m = self.streak.len();
        let at = self.t + k - 1;
        (at + m - self.margin..=at + m + self.margin).all(|i| self.streak[i % m] >= self.days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20-step day, zero from step 5 to 14, busy otherwise.
    fn day(step: usize) -> f64 {
        if (5..15).contains(&(step % 20)) { 0.0 } else { 30.0 }
    }

    #[test]
    fn a_time_of_day_at_zero_on_each_recent_day_is_quiet() {
        let mut q = QuietPhases::new(20, 2, 2);
        for t in 0..40 {
            q.observe(day(t));
        }
        // Next value is step 40 (step 0 of a day): steps 7..=12 are quiet with their margin.
        let quiet: Vec<usize> = (1..=20).filter(|&k| q.quiet_ahead(k)).map(|k| (40 + k - 1) % 20).collect();
        assert_eq!(quiet, (7..=12).collect::<Vec<_>>());
    }

    #[test]
    fn one_quiet_day_or_a_busy_one_is_not_enough() {
        let mut q = QuietPhases::new(20, 2, 0);
        for t in 0..20 {
            q.observe(day(t));
        }
        assert!(!q.quiet_ahead(10), "seen at zero once only");
        // The second day has usage at step 10: that step starts over, its neighbours do not.
        for t in 20..40 {
            q.observe(if t == 30 { 1.0 } else { day(t) });
        }
        assert!(!q.quiet_ahead(11), "step 10 of the next day");
        assert!(q.quiet_ahead(10), "step 9");
        // Usage near zero is not zero.
        let mut q = QuietPhases::new(20, 1, 0);
        for t in 0..40 {
            q.observe(if day(t) == 0.0 { 0.01 } else { 30.0 });
        }
        assert!((1..=20).all(|k| !q.quiet_ahead(k)));
    }
}
