//! Additive Holt-Winters with a damped trend: level, trend and one seasonal cycle (a day),
//! updated once per step. Parameters are fitted by a small grid search that minimizes the
//! absolute error at the forecast horizon itself, since that is the error we are judged on: the
//! forecast is the median the bands are drawn around, and squared errors would let rare jumps
//! (a batch job starting) pull it toward a level the series never sits at. The grid includes
//! "no season": a daily season is kept only when it forecasts the history better. The season can
//! be read smoothed over neighbouring steps (`smooth`): each step of the day is otherwise learnt
//! from one noisy value a day, and on a one-minute grid that noise, not the shape, dominated the
//! forecast's error.

/// Smoothing parameters; `period == 0` means no seasonal component (Holt's linear method).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub phi: f64,
    pub period: usize,
    /// The season is read as the mean of the steps this far either side (0: as learnt).
    pub smooth: usize,
    /// Errors of forecasts are kept relative to the forecast, but to no less than this share
    /// of the largest value (`relative_floor`); `None`: in the series' own units.
    pub relative_floor: Option<f64>,
}

/// The model's state after consuming `t` values.
#[derive(Debug, Clone)]
pub struct State {
    level: f64,
    trend: f64,
    /// The season as learnt, one value per step of the cycle.
    season: Vec<f64>,
    /// `season` averaged over `smooth` steps either side (cyclically): what is forecast with.
    smoothed: Vec<f64>,
    smooth: usize,
    t: usize,
}

impl State {
    /// Initial state from the first values: the first cycle's mean as level, the difference of
    /// the first two cycles' means as trend, the first cycle's shape as season.
    pub fn init(y: &[f64], p: &Params) -> State {
        let period = p.period;
        let m = period.max(1);
        let first = &y[..m.min(y.len())];
        let mid = mean(first);
        let trend = if period > 0 && y.len() >= 2 * m { (mean(&y[m..2 * m]) - mid) / m as f64 } else { 0.0 };
        // The first cycle's mean sits at its middle: detrend the shape around it, and start the
        // level one step before the first value.
        let centre = (first.len() as f64 - 1.0) / 2.0;
        let season = if period > 0 {
            first.iter().enumerate().map(|(i, v)| v - (mid + trend * (i as f64 - centre))).collect()
        } else {
            vec![]
        };
        let smooth = if season.is_empty() { 0 } else { p.smooth.min((season.len() - 1) / 2) };
        let smoothed = smoothed(&season, smooth);
        State { level: mid - trend * (centre + 1.0), trend, season, smoothed, smooth, t: 0 }
    }

    /// Forecast `k ≥ 1` steps after the last consumed value.
    pub fn forecast(&self, k: usize, p: &Params) -> f64 {
        // Σ_{i=1..k} φ^i, in closed form.
        let damp =
            if (p.phi - 1.0).abs() < 1e-12 { k as f64 } else { p.phi * (1.0 - p.phi.powi(k as i32)) / (1.0 - p.phi) };
        self.level + damp * self.trend + self.season_ahead(k)
    }

    /// The level: where the series sits without its season and trend.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// The seasonal component `k ≥ 1` steps after the last consumed value (0 without a season).
    pub fn season_ahead(&self, k: usize) -> f64 {
        if self.smoothed.is_empty() { 0.0 } else { self.smoothed[(self.t + k - 1) % self.smoothed.len()] }
    }

    pub fn update(&mut self, y: f64, p: &Params) {
        let m = self.season.len();
        let i = self.t % m.max(1);
        let s_old = if m > 0 { self.smoothed[i] } else { 0.0 };
        let level = p.alpha * (y - s_old) + (1.0 - p.alpha) * (self.level + p.phi * self.trend);
        self.trend = p.beta * (level - self.level) + (1.0 - p.beta) * p.phi * self.trend;
        self.level = level;
        if m > 0 {
            let raw = p.gamma * (y - level) + (1.0 - p.gamma) * self.season[i];
            let change = (raw - self.season[i]) / (2 * self.smooth + 1) as f64;
            self.season[i] = raw;
            for d in 0..=2 * self.smooth {
                self.smoothed[(i + m + d - self.smooth) % m] += change;
            }
        }
        self.t += 1;
    }
}

/// The cyclic moving average of `season` over `w` steps either side.
fn smoothed(season: &[f64], w: usize) -> Vec<f64> {
    let m = season.len();
    (0..m).map(|i| (0..=2 * w).map(|d| season[(i + m + d - w) % m]).sum::<f64>() / (2 * w + 1) as f64).collect()
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
}

/// Each `h`-step forecast of `p` over `y` from value `warm` on, with its error.
fn h_step_errors(y: &[f64], p: &Params, h: usize, warm: usize, mut visit: impl FnMut(f64, f64)) {
    let mut s = State::init(y, p);
    for t in 0..y.len() {
        s.update(y[t], p);
        if t + h < y.len() && t + 1 >= warm {
            let f = s.forecast(h, p);
            visit(f, y[t + h] - f);
        }
    }
}

/// Mean absolute error of the `h`-step forecasts of `p` made from value `from` on: each made
/// from the values before it only.
pub fn mae_from(y: &[f64], p: &Params, h: usize, from: usize) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    h_step_errors(y, p, h, from, |_, e| {
        sum += e.abs();
        n += 1;
    });
    if n == 0 { f64::INFINITY } else { sum / n as f64 }
}

/// Whether the upper tail of errors grows in proportion to the forecast's level (a busy
/// afternoon varying by more than a quiet night) rather than being the same at every level (a
/// job starting, a level changing), and from which level on: the floor (a share of `peak`, one
/// of `floors`) under which errors relative to `max(|forecast|, floor)` have the `tail`-quantile
/// with the smallest quantile (pinball) loss over `(forecast, error)` pairs; `None` where errors
/// in the series' own units have a smaller one. Near zero a shape's small misfit (the hour
/// before usage resumes) outweighs noise in proportion to the load: a higher floor keeps errors
/// there absolute and relative above it.
pub fn relative_floor(errors: &[(f64, f64)], peak: f64, floors: &[f64], tail: f64) -> Option<f64> {
    if errors.is_empty() || peak <= 0.0 {
        return None;
    }
    let loss = |scale: &dyn Fn(f64) -> f64| {
        let mut scaled: Vec<f64> = errors.iter().map(|&(f, e)| e / scale(f)).collect();
        let q = super::quantiles::quantile_unsorted(&mut scaled, tail).unwrap_or(0.0);
        errors
            .iter()
            .map(|&(f, e)| {
                let d = e - q * scale(f);
                if d > 0.0 { tail * d } else { (tail - 1.0) * d }
            })
            .sum::<f64>()
    };
    let absolute = loss(&|_| 1.0);
    floors
        .iter()
        .map(|&floor| (loss(&|f: f64| f.abs().max(floor * peak)), floor))
        .filter(|(l, _)| *l < absolute)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, floor)| floor)
}

/// The grid's best parameters for `y` at horizon `h`; with `period > 0` the result may still
/// have no season (`period == 0`) when the season did not help.
pub fn fit(y: &[f64], period: usize, h: usize) -> Params {
    // The smallest levels follow slowly: where a season carries the shape, a level that chases
    // noise only adds it to the forecast.
    const ALPHAS: [f64; 8] = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7];
    const BETAS: [f64; 3] = [0.0, 0.01, 0.05];
    // `None`: no season. Every candidate is scored on the same values (after one cycle).
    let gammas: &[Option<f64>] = if period > 0 { &[None, Some(0.02), Some(0.1), Some(0.3)] } else { &[None] };
    let warm = period.max(h);
    // Half-widths of the season's smoothing, in steps: as learnt, or over an hour.
    const SMOOTHS: [usize; 2] = [0, 30];
    let mut best = (
        f64::INFINITY,
        Params { alpha: 0.2, beta: 0.0, gamma: 0.0, phi: 0.9, period, smooth: 0, relative_floor: None },
    );
    for &alpha in &ALPHAS {
        for &beta in &BETAS {
            for &gamma in gammas {
                for &smooth in if gamma.is_some() { &SMOOTHS[..] } else { &[0][..] } {
                    let p = Params {
                        alpha,
                        beta,
                        gamma: gamma.unwrap_or(0.0),
                        phi: 0.9,
                        period: if gamma.is_some() { period } else { 0 },
                        smooth,
                        relative_floor: None,
                    };
                    let mut sae = 0.0;
                    h_step_errors(y, &p, h, warm, |_, e| sae += e.abs());
                    if sae < best.0 {
                        best = (sae, p);
                    }
                }
            }
        }
    }
    let mut errors = Vec::new();
    h_step_errors(y, &best.1, h, warm, |f, e| errors.push((f, e)));
    let peak = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    Params { relative_floor: relative_floor(&errors, peak, &RELATIVE_FLOORS, RELATIVE_TAIL), ..best.1 }
}

/// The floors relative errors may have, in shares of the largest value: from noise in
/// proportion to the load all the way down to errors absolute below a third of the peak.
const RELATIVE_FLOORS: [f64; 4] = [0.01, 0.03, 0.1, 0.3];
/// Whether errors scale with the level is judged where sizes are drawn: in their upper tail.
const RELATIVE_TAIL: f64 = 0.99;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_pure_seasonal_cycle_exactly() {
        let m = 24;
        let y: Vec<f64> =
            (0..m * 6).map(|t| 50.0 + 10.0 * (t as f64 * std::f64::consts::TAU / m as f64).sin()).collect();
        let p = fit(&y, m, 3);
        let mut s = State::init(&y, &p);
        for &v in &y {
            s.update(v, &p);
        }
        for k in 1..=m {
            let truth = 50.0 + 10.0 * ((y.len() + k - 1) as f64 * std::f64::consts::TAU / m as f64).sin();
            assert!((s.forecast(k, &p) - truth).abs() < 0.5, "k={k}");
        }
    }

    #[test]
    fn a_season_is_kept_only_where_the_day_repeats() {
        let m = 48;
        let mut rng = crate::profile::traces::Rng::new(5);
        // Jumps at random times: what happened at this time yesterday says nothing.
        let mut level = 10.0;
        let random: Vec<f64> = (0..m * 6)
            .map(|_| {
                if rng.uniform() < 0.03 {
                    level = rng.range(5.0, 60.0);
                }
                level + rng.normal()
            })
            .collect();
        assert_eq!(fit(&random, m, 3).period, 0);
        let daily: Vec<f64> = (0..m * 6)
            .map(|t| 50.0 + 20.0 * (t as f64 * std::f64::consts::TAU / m as f64).sin() + rng.normal())
            .collect();
        assert_eq!(fit(&daily, m, 3).period, m);
    }

    #[test]
    fn a_noisy_day_is_smoothed_and_a_sharp_one_is_not() {
        let day = 1440;
        let mut rng = crate::profile::traces::Rng::new(9);
        let wave = |t: usize| (t as f64 * std::f64::consts::TAU / day as f64).sin();
        // Each minute of the day seen once a day through 3 % noise: smoothing helps.
        let noisy: Vec<f64> = (0..3 * day).map(|t| (40.0 + 20.0 * wave(t)) * (1.0 + 0.03 * rng.normal())).collect();
        assert_eq!(fit(&noisy, day, 30).smooth, 30);
        // A ten-minute job at the same time every day: smoothing would spread it over an hour.
        let sharp: Vec<f64> = (0..3 * day)
            .map(|t| 10.0 + if (120..130).contains(&(t % day)) { 60.0 } else { 0.0 } + 0.2 * rng.normal())
            .collect();
        let p = fit(&sharp, day, 30);
        assert_eq!((p.period, p.smooth), (day, 0));
    }

    #[test]
    fn errors_are_relative_where_they_grow_with_the_level() {
        let mut rng = crate::profile::traces::Rng::new(4);
        let levels: Vec<f64> = (0..2000).map(|_| rng.range(5.0, 90.0)).collect();
        // Noise in proportion to the load.
        let proportional: Vec<(f64, f64)> = levels.iter().map(|&f| (f, 0.05 * f * rng.normal())).collect();
        assert_eq!(relative_floor(&proportional, 90.0, &RELATIVE_FLOORS, 0.99), Some(0.01));
        // The same small noise everywhere, and now and then a jump of any size from any level.
        let jumps: Vec<(f64, f64)> = levels
            .iter()
            .map(|&f| (f, rng.normal() + if rng.uniform() < 0.03 { rng.range(10.0, 60.0) } else { 0.0 }))
            .collect();
        assert_eq!(relative_floor(&jumps, 90.0, &RELATIVE_FLOORS, 0.99), None);
        assert_eq!(relative_floor(&[], 90.0, &RELATIVE_FLOORS, 0.99), None);
        // Proportional noise over the day, but near zero a misfit of a few units (the hour before
        // usage resumes): still relative, but not down to zero.
        let low: Vec<(f64, f64)> = levels
            .iter()
            .map(|&f| (f, 0.05 * f * rng.normal() + if f < 9.0 { 4.0 * rng.uniform() } else { 0.0 }))
            .collect();
        let floor = relative_floor(&low, 90.0, &RELATIVE_FLOORS, 0.99);
        assert!(floor.is_some_and(|f| f > 0.01), "{floor:?}");
    }

    #[test]
    fn damped_trend_does_not_run_away() {
        let y: Vec<f64> = (0..200).map(|t| t as f64).collect();
        let p = fit(&y, 0, 10);
        let mut s = State::init(&y, &p);
        for &v in &y {
            s.update(v, &p);
        }
        let f = s.forecast(10, &p);
        assert!(f > 199.0 && f < 215.0, "{f}");
    }
}
