//! One pass over a series with fixed parameters: after each value, the model forecasts the
//! horizon, and the errors of earlier forecasts (scaled by the forecast's level, so a band is
//! as wide at night as the night's own noise) feed the rolling quantiles the bands come from.

use std::collections::VecDeque;

use super::holt_winters::{Params, State};
use super::quantiles::{RollingQuantiles, quantile_sorted};
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
    /// Error scale floor: keeps relative errors finite near zero.
    floor: f64,
    state: State,
    /// Forecasts made at recent origins: per origin, the forecast of each step 1..=h.
    pending: VecDeque<Vec<f64>>,
    errors_h: RollingQuantiles,
    /// Per-step errors of the last `error_window` origins, for the live forecast's bands.
    errors_k: Option<Vec<VecDeque<f64>>>,
    baseline: DecayingHistogram,
}

impl<'a> Walk<'a> {
    /// `train` sets the initial state and the error floor; `per_step` keeps per-horizon errors.
    pub fn new(cfg: &'a ForecastConfig, params: Params, train: &[f64], per_step: bool) -> Self {
        let mean_abs = train.iter().map(|v| v.abs()).sum::<f64>() / train.len().max(1) as f64;
        Walk {
            cfg,
            params,
            floor: (0.1 * mean_abs).max(1e-9),
            state: State::init(train, params.period),
            pending: VecDeque::new(),
            errors_h: RollingQuantiles::new(cfg.error_window),
            errors_k: per_step.then(|| vec![VecDeque::new(); cfg.horizon_steps()]),
            baseline: DecayingHistogram::default(),
        }
    }

    fn scale(&self, f: f64) -> f64 {
        f.abs() + self.floor
    }

    /// Consume the value at `ts_ms`; returns the forecast for `horizon` later once bands exist.
    pub fn step(&mut self, ts_ms: i64, y: f64) -> Option<OriginForecast> {
        let h = self.cfg.horizon_steps();
        // pending[j] was made j+1 steps ago: its forecast of this value is its step j+1.
        for (j, f) in self.pending.iter().enumerate() {
            let e = (y - f[j]) / (f[j].abs() + self.floor);
            if j + 1 == h {
                self.errors_h.push(e);
            }
            if let Some(ek) = &mut self.errors_k {
                ek[j].push_back(e);
                if ek[j].len() > self.cfg.error_window {
                    ek[j].pop_front();
                }
            }
        }
        self.state.update(y, &self.params);
        self.baseline.add(ts_ms, y);
        let f: Vec<f64> = (1..=h).map(|k| self.state.forecast(k, &self.params)).collect();
        self.pending.push_front(f);
        self.pending.truncate(h);
        if self.errors_h.len() < MIN_ERRORS {
            return None;
        }
        let f = &self.pending[0];
        let q = |p: f64| self.errors_h.quantile(p).unwrap_or(0.0);
        let (q50, q90, qu) = (q(0.5), q(0.9), q(self.cfg.upper_quantile));
        let fh = f[h - 1];
        let upper = f.iter().map(|&v| v + qu * self.scale(v)).fold(f64::NEG_INFINITY, f64::max);
        Some(OriginForecast { p50: fh + q50 * self.scale(fh), p90: fh + q90 * self.scale(fh), upper, baseline: self.baseline.recommendation() })
    }

    /// The forecast from the latest origin, each step with its own error quantiles.
    pub fn points(&self, last_ts: i64) -> Vec<ForecastPoint> {
        let (Some(f), Some(ek)) = (self.pending.front(), &self.errors_k) else { return vec![] };
        f.iter()
            .zip(ek)
            .enumerate()
            .map(|(j, (&v, errs))| {
                let mut e: Vec<f64> = errs.iter().copied().collect();
                e.sort_by(f64::total_cmp);
                let q = |p| quantile_sorted(&e, p).unwrap_or(0.0) * self.scale(v) + v;
                ForecastPoint { ts_ms: last_ts + (j as i64 + 1) * self.cfg.step_ms, p10: q(0.1), p50: q(0.5), p90: q(0.9) }
            })
            .collect()
    }
}
