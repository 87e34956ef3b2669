//! One pass over a series with fixed parameters: after each value the model forecasts the
//! horizon, and the errors of earlier forecasts, kept with the forecast they belonged to, give
//! the bands (quantiles of the errors of past forecasts at a similar level).

use std::collections::VecDeque;

use super::holt_winters::{Params, State};
use super::quantiles::{ConditionalErrors, quantile_sorted};
use super::vpa::DecayingHistogram;
use super::{ForecastConfig, ForecastPoint};

/// Errors needed before bands are drawn from them.
pub const MIN_ERRORS: usize = 60;

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
    /// Forecasts made at recent origins: per origin, the forecast of each step 1..=h.
    pending: VecDeque<Vec<f64>>,
    errors_h: ConditionalErrors,
    /// Per-step errors, kept from origin `per_step_from` on (for the live forecast's bands).
    errors_k: Vec<ConditionalErrors>,
    per_step_from: usize,
    t: usize,
    baseline: DecayingHistogram,
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
        }
    }

    /// Usage is never negative and never above the resource's capacity.
    fn clamp(&self, v: f64) -> f64 {
        let v = v.max(0.0);
        self.cfg.capacity.map_or(v, |c| v.min(c))
    }

    /// Consume the value at `ts_ms`; returns the forecast for `horizon` later once bands exist.
    pub fn step(&mut self, ts_ms: i64, y: f64) -> Option<OriginForecast> {
        let h = self.cfg.horizon_steps();
        // pending[j] was made j+1 steps ago: its forecast of this value is its step j+1.
        for (j, f) in self.pending.iter().enumerate() {
            let origin = self.t - (j + 1);
            if j + 1 == h {
                self.errors_h.push(f[j], y - f[j]);
            }
            if origin >= self.per_step_from {
                self.errors_k[j].push(f[j], y - f[j]);
            }
        }
        self.state.update(y, &self.params);
        self.baseline.add(ts_ms, y);
        self.t += 1;
        let f: Vec<f64> = (1..=h).map(|k| self.state.forecast(k, &self.params)).collect();
        self.pending.push_front(f);
        self.pending.truncate(h);
        if self.errors_h.len() < MIN_ERRORS {
            return None;
        }
        let fh = self.pending[0][h - 1];
        let e = self.errors_h.nearest(fh);
        let q = |p: f64| self.clamp(fh + quantile_sorted(&e, p).unwrap_or(0.0));
        Some(OriginForecast { p50: q(0.5), p90: q(0.9), upper: q(self.cfg.upper_quantile), baseline: self.baseline.recommendation() })
    }

    /// The forecast from the latest origin, each step with its own error quantiles.
    pub fn points(&self, last_ts: i64) -> Vec<ForecastPoint> {
        let Some(f) = self.pending.front() else { return vec![] };
        f.iter()
            .zip(&self.errors_k)
            .enumerate()
            .map(|(j, (&v, errs))| {
                let e = errs.nearest(v);
                let q = |p| self.clamp(v + quantile_sorted(&e, p).unwrap_or(0.0));
                ForecastPoint { ts_ms: last_ts + (j as i64 + 1) * self.cfg.step_ms, p10: q(0.1), p50: q(0.5), p90: q(0.9) }
            })
            .collect()
    }
}
