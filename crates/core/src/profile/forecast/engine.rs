//! One pass over a series with fixed parameters: after each value the model forecasts the
//! horizon, and the errors of earlier forecasts, kept with the forecast they belonged to, give
//! the bands (quantiles of the errors of past forecasts at a similar level). The quantile the
//! p90 band is drawn at is calibrated on the series' own outcomes as they mature
//! (`calibration`), and so is the upper recommendation when it must miss no more often than the
//! baseline: there each outcome is judged against both at once, so a surprise that catches the
//! baseline too (a burst higher than any before) does not make ours reach further, and only the
//! misses the baseline avoided do.

use std::collections::VecDeque;

use super::calibration::AdaptiveLevel;
use super::holt_winters::{Params, State};
use super::quantiles::{ConditionalErrors, quantile_sorted, quantile_unsorted};
use super::vpa::DecayingHistogram;
use super::{ForecastConfig, ForecastPoint};

/// Errors needed before bands are drawn from them.
pub const MIN_ERRORS: usize = 60;
/// A calibrated upper recommendation aims at this share of the baseline's misses: calibration
/// lags by the horizon, and the margin keeps its misses at or under the baseline's rather than
/// around them.
pub const BASELINE_MISS_SHARE: f64 = 0.8;

/// The forecast made at one origin for `horizon` later.
#[derive(Debug, Clone, Copy)]
pub struct OriginForecast {
    pub p50: f64,
    pub p90: f64,
    pub upper: f64,
    pub baseline: Option<f64>,
}

pub struct Walk<'a> {
    cfg: &'a ForecastConfig,
    params: Params,
    state: State,
    /// Forecasts made at recent origins: per origin, the forecast of each step 1..=h, and the
    /// bands it was issued with.
    pending: VecDeque<(Vec<f64>, Option<OriginForecast>)>,
    errors_h: ConditionalErrors,
    /// Per-step errors, kept from origin `per_step_from` on (for the live forecast's bands).
    errors_k: Vec<ConditionalErrors>,
    per_step_from: usize,
    t: usize,
    baseline: DecayingHistogram,
    /// The p90 band's calibrated quantile level.
    p90: AdaptiveLevel,
    /// The upper recommendation's, with `at_most_baseline_misses` (else `upper_quantile`).
    upper: Option<AdaptiveLevel>,
}

impl<'a> Walk<'a> {
    /// `train` sets the initial state; per-step errors are kept from origin `per_step_from` on.
    pub fn new(cfg: &'a ForecastConfig, params: Params, train: &[f64], per_step_from: Option<usize>) -> Self {
        let neighbours = (cfg.error_window / 4).max(MIN_ERRORS);
        let h = cfg.horizon_steps();
        Walk {
            cfg,
            params,
            state: State::init(train, params.period),
            pending: VecDeque::new(),
            errors_h: ConditionalErrors::new(cfg.error_window, neighbours),
            errors_k: if per_step_from.is_some() { vec![ConditionalErrors::new(cfg.error_window, neighbours); h] } else { vec![] },
            per_step_from: per_step_from.unwrap_or(usize::MAX),
            t: 0,
            baseline: DecayingHistogram::default(),
            p90: AdaptiveLevel::new(0.1),
            upper: cfg.at_most_baseline_misses.then(|| AdaptiveLevel::new(1.0 - cfg.upper_quantile)),
        }
    }

    /// Usage is never negative and never above the resource's capacity.
    fn clamp(&self, v: f64) -> f64 {
        let v = v.max(0.0);
        self.cfg.capacity.map_or(v, |c| v.min(c))
    }

    /// The upper recommendation for `fh` given the errors `e` of forecasts near it.
    fn upper(&self, fh: f64, e: &mut [f64]) -> f64 {
        let mut q = |p: f64| fh + quantile_unsorted(e, p).unwrap_or(0.0);
        self.clamp(match &self.upper {
            // Past the largest error, in spans of these errors (largest − median).
            Some(level) => q(level.quantile()) + level.beyond() * (q(1.0) - q(0.5)),
            None => q(self.cfg.upper_quantile),
        })
    }

    /// The share of misses the calibrated upper recommendation aims at for an outcome the
    /// baseline did or did not miss: `BASELINE_MISS_SHARE` of the baseline's, judged outcome by
    /// outcome. The baseline's first season is its cold start (its histogram has not seen a
    /// whole day), not a rate to match: until then, `1 − upper_quantile`.
    fn upper_target(&self, origin: usize, baseline_missed: Option<bool>) -> f64 {
        match baseline_missed {
            Some(missed) if origin >= self.cfg.period_steps() => if missed { BASELINE_MISS_SHARE } else { 0.0 },
            _ => 1.0 - self.cfg.upper_quantile,
        }
    }

    /// Consume the value at `ts_ms`; returns the forecast for `horizon` later once bands exist.
    pub fn step(&mut self, ts_ms: i64, y: f64) -> Option<OriginForecast> {
        let h = self.cfg.horizon_steps();
        // pending[j] was made j+1 steps ago: its forecast of this value is its step j+1.
        for (j, (f, issued)) in self.pending.iter().enumerate() {
            let origin = self.t - (j + 1);
            if j + 1 == h {
                self.errors_h.push(f[j], y - f[j]);
                if let Some(o) = issued {
                    self.p90.update(y > o.p90);
                    let target = self.upper_target(origin, o.baseline.map(|b| y > b));
                    if let Some(level) = &mut self.upper {
                        level.set_target(target);
                        level.update(y > o.upper);
                    }
                }
            }
            if origin >= self.per_step_from {
                self.errors_k[j].push(f[j], y - f[j]);
            }
        }
        self.state.update(y, &self.params);
        self.baseline.add(ts_ms, y);
        self.t += 1;
        let f: Vec<f64> = (1..=h).map(|k| self.state.forecast(k, &self.params)).collect();
        let fh = f[h - 1];
        let issued = (self.errors_h.len() >= MIN_ERRORS).then(|| {
            let mut e = self.errors_h.nearest_unsorted(fh);
            let mut q = |p: f64| self.clamp(fh + quantile_unsorted(&mut e, p).unwrap_or(0.0));
            let (p50, p90) = (q(0.5), q(self.p90.quantile()));
            OriginForecast { p50, p90, upper: self.upper(fh, &mut e), baseline: self.baseline.recommendation() }
        });
        self.pending.push_front((f, issued));
        self.pending.truncate(h);
        issued
    }

    /// The forecast from the latest origin, each step with its own error quantiles.
    pub fn points(&self, last_ts: i64) -> Vec<ForecastPoint> {
        let Some((f, _)) = self.pending.front() else { return vec![] };
        let p90 = self.p90.quantile();
        f.iter()
            .zip(&self.errors_k)
            .enumerate()
            .map(|(j, (&v, errs))| {
                let e = errs.nearest(v);
                let q = |p| self.clamp(v + quantile_sorted(&e, p).unwrap_or(0.0));
                ForecastPoint { ts_ms: last_ts + (j as i64 + 1) * self.cfg.step_ms, p10: q(0.1), p50: q(0.5), p90: q(p90) }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::forecast::holt_winters::fit;

    #[test]
    fn the_baselines_first_day_is_not_a_miss_rate_to_match() {
        let cfg = ForecastConfig { at_most_baseline_misses: true, ..ForecastConfig::default() };
        let y = vec![1.0; 100];
        let walk = Walk::new(&cfg, fit(&y, 0, cfg.horizon_steps()), &y, None);
        let day = cfg.period_steps();
        let default = 1.0 - cfg.upper_quantile;
        assert_eq!(walk.upper_target(day - 1, Some(true)), default, "cold start");
        assert_eq!(walk.upper_target(day, None), default, "no baseline yet");
        assert_eq!(walk.upper_target(day, Some(true)), BASELINE_MISS_SHARE);
        assert_eq!(walk.upper_target(day, Some(false)), 0.0);
    }
}
