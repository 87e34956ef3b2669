//! Additive Holt-Winters with a damped trend: level, trend and one seasonal cycle (a day),
//! updated once per step. Parameters are fitted by a small grid search that minimizes the
//! absolute error at the forecast horizon itself, since that is the error we are judged on: the
//! forecast is the median the bands are drawn around, and squared errors would let rare jumps
//! (a batch job starting) pull it toward a level the series never sits at. The grid includes
//! "no season": a daily season is kept only when it forecasts the history better.

/// Smoothing parameters; `period == 0` means no seasonal component (Holt's linear method).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub phi: f64,
    pub period: usize,
}

/// The model's state after consuming `t` values.
#[derive(Debug, Clone)]
pub struct State {
    level: f64,
    trend: f64,
    season: Vec<f64>,
    t: usize,
}

impl State {
    /// Initial state from the first values: the first cycle's mean as level, the difference of
    /// the first two cycles' means as trend, the first cycle's shape as season.
    pub fn init(y: &[f64], period: usize) -> State {
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
        State { level: mid - trend * (centre + 1.0), trend, season, t: 0 }
    }

    /// Forecast `k ≥ 1` steps after the last consumed value.
    pub fn forecast(&self, k: usize, p: &Params) -> f64 {
        // Σ_{i=1..k} φ^i, in closed form.
        let damp = if (p.phi - 1.0).abs() < 1e-12 { k as f64 } else { p.phi * (1.0 - p.phi.powi(k as i32)) / (1.0 - p.phi) };
        self.level + damp * self.trend + self.season_ahead(k)
    }

    /// The level: where the series sits without its season and trend.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// The seasonal component `k ≥ 1` steps after the last consumed value (0 without a season).
    pub fn season_ahead(&self, k: usize) -> f64 {
        if self.season.is_empty() { 0.0 } else { self.season[(self.t + k - 1) % self.season.len()] }
    }

    pub fn update(&mut self, y: f64, p: &Params) {
        let m = self.season.len();
        let s_old = if m > 0 { self.season[self.t % m] } else { 0.0 };
        let level = p.alpha * (y - s_old) + (1.0 - p.alpha) * (self.level + p.phi * self.trend);
        self.trend = p.beta * (level - self.level) + (1.0 - p.beta) * p.phi * self.trend;
        self.level = level;
        if m > 0 {
            self.season[self.t % m] = p.gamma * (y - level) + (1.0 - p.gamma) * s_old;
        }
        self.t += 1;
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
}

/// Sum of absolute `h`-step errors of `p` over `y`, scored from value `warm` on.
fn h_step_sae(y: &[f64], p: &Params, h: usize, warm: usize) -> f64 {
    let mut s = State::init(y, p.period);
    let mut sae = 0.0;
    for t in 0..y.len() {
        s.update(y[t], p);
        if t + h < y.len() && t + 1 >= warm {
            sae += (y[t + h] - s.forecast(h, p)).abs();
        }
    }
    sae
}

/// The grid's best parameters for `y` at horizon `h`; with `period > 0` the result may still
/// have no season (`period == 0`) when the season did not help.
pub fn fit(y: &[f64], period: usize, h: usize) -> Params {
    const ALPHAS: [f64; 6] = [0.02, 0.05, 0.1, 0.2, 0.4, 0.7];
    const BETAS: [f64; 3] = [0.0, 0.01, 0.05];
    // `None`: no season. Every candidate is scored on the same values (after one cycle).
    let gammas: &[Option<f64>] = if period > 0 { &[None, Some(0.02), Some(0.1), Some(0.3)] } else { &[None] };
    let warm = period.max(h);
    let mut best = (f64::INFINITY, Params { alpha: 0.2, beta: 0.0, gamma: 0.0, phi: 0.9, period });
    for &alpha in &ALPHAS {
        for &beta in &BETAS {
            for &gamma in gammas {
                let p = Params { alpha, beta, gamma: gamma.unwrap_or(0.0), phi: 0.9, period: if gamma.is_some() { period } else { 0 } };
                let sae = h_step_sae(y, &p, h, warm);
                if sae < best.0 {
                    best = (sae, p);
                }
            }
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_pure_seasonal_cycle_exactly() {
        let m = 24;
        let y: Vec<f64> = (0..m * 6).map(|t| 50.0 + 10.0 * (t as f64 * std::f64::consts::TAU / m as f64).sin()).collect();
        let p = fit(&y, m, 3);
        let mut s = State::init(&y, m);
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
        let daily: Vec<f64> = (0..m * 6).map(|t| 50.0 + 20.0 * (t as f64 * std::f64::consts::TAU / m as f64).sin() + rng.normal()).collect();
        assert_eq!(fit(&daily, m, 3).period, m);
    }

    #[test]
    fn damped_trend_does_not_run_away() {
        let y: Vec<f64> = (0..200).map(|t| t as f64).collect();
        let p = fit(&y, 0, 10);
        let mut s = State::init(&y, 0);
        for &v in &y {
            s.update(v, &p);
        }
        let f = s.forecast(10, &p);
        assert!(f > 199.0 && f < 215.0, "{f}");
    }
}
