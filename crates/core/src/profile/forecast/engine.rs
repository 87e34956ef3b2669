//! One pass over a series with fixed parameters: after each value the model forecasts the
//! horizon, and the errors of earlier forecasts, kept with the forecast they belonged to, give
//! the bands (quantiles of the errors of past forecasts at a similar level, relative to their
//! forecast where the fitting history's errors grew with the level). The quantile the p90 band
//! is drawn at is calibrated on the series' own outcomes as they mature (`calibration`), and so
//! is the upper recommendation when it must miss no more often than the baseline (how deep into
//! the errors' tail it reaches, `TailDepth`): there each outcome is judged against both at once,
//! so a surprise that catches the baseline too (a burst higher than any before) does not make
//! ours reach further, and only the misses the baseline avoided do. A time of day at zero on
//! the days before (`quiet_phases`) is sized at zero whatever the errors say. Level shifts
//! (`shifts`) are the exception to errors at a similar level: with `cover_level_shifts`, once
//! shifts were seen, the upper recommendation is priced instead (`shift_cover`: slack against
//! the chance of a miss, shifts included), with the price calibrated the same way.

use std::collections::VecDeque;

use super::calibration::{AdaptiveLevel, MissPrice, TailDepth};
use super::holt_winters::{Params, State};
use super::quantiles::{ConditionalErrors, quantile_at_depth, quantile_sorted, quantile_unsorted};
use super::quiet_phases::QuietPhases;
use super::shift_cover::ShiftRisk;
use super::shifts::LevelShifts;
use super::vpa::DecayingHistogram;
use super::{ForecastConfig, ForecastPoint};

/// Errors needed before bands are drawn from them.
pub const MIN_ERRORS: usize = 60;
/// A calibrated upper recommendation aims at this share of the baseline's misses: calibration
/// lags by the horizon, and the margin keeps its misses at or under the baseline's rather than
/// around them.
pub const BASELINE_MISS_SHARE: f64 = 0.75;
/// The calibrated upper recommendation's exponential tail starts at this quantile of the errors
/// (`quantiles::quantile_at_depth`): below it the errors are many enough to go by.
const TAIL_FROM: f64 = 0.99;
/// How many quantiles of the shifts' destinations a priced size weighs (the lowest to the
/// highest): enough to tell low levels from high ones, few enough to decide at every origin.
const DESTINATIONS: usize = 16;
/// A time of day is quiet (`quiet_phases`) once it, and the steps half a horizon either side
/// of it (usage resuming a little earlier than on the days before), were at zero on this many
/// days in a row: one could be a holiday.
const QUIET_DAYS: u8 = 2;

/// The forecast made at one origin for `horizon` later.
#[derive(Debug, Clone, Copy)]
pub struct OriginForecast {
    pub p50: f64,
    pub p90: f64,
    pub upper: f64,
    pub baseline: Option<f64>,
}

/// What an origin's forecast is checked against once its outcomes are in.
struct Origin {
    /// The forecast of each step 1..=h.
    steps: Vec<f64>,
    /// The bands it was issued with.
    issued: Option<OriginForecast>,
    /// How its upper recommendation was sized.
    sized: Sizing,
    /// The model's level then (without season and trend).
    level: f64,
    /// The smallest and largest error of the forecasts nearest to the horizon's, once there
    /// are as many as the bands draw from: outside them an outcome is a surprise.
    error_range: Option<(f64, f64)>,
}

/// How an upper recommendation was sized: each way learns from its own outcomes only.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sizing {
    /// A quantile of the errors, or the calibrated depth into their tail.
    Errors,
    /// Priced against the chance of a miss (`MissPrice`, where level shifts were seen).
    Priced,
    /// Zero: a quiet time of day (`QuietPhases`).
    Quiet,
}

pub struct Walk<'a> {
    cfg: &'a ForecastConfig,
    params: Params,
    state: State,
    /// Forecasts made at recent origins, newest first.
    pending: VecDeque<Origin>,
    errors_h: ConditionalErrors,
    /// Per-step errors, kept from origin `per_step_from` on (for the live forecast's bands).
    errors_k: Vec<ConditionalErrors>,
    per_step_from: usize,
    neighbours: usize,
    /// With `cover_level_shifts`.
    shifts: Option<LevelShifts>,
    t: usize,
    baseline: DecayingHistogram,
    /// The p90 band's calibrated quantile level.
    p90: AdaptiveLevel,
    /// How deep into the errors' tail the upper recommendation reaches, with
    /// `at_most_baseline_misses` (else it is drawn at `upper_quantile`).
    upper: Option<TailDepth>,
    /// The largest absolute value seen: where errors are relative to their forecast, they are
    /// relative to no less than the fitted `relative_floor` share of it.
    peak: f64,
    /// With `cover_level_shifts`: the price of a miss where the upper recommendation is priced.
    price: Option<MissPrice>,
    quiet: QuietPhases,
}

impl<'a> Walk<'a> {
    /// `train` sets the initial state; per-step errors are kept from origin `per_step_from` on.
    pub fn new(cfg: &'a ForecastConfig, params: Params, train: &[f64], per_step_from: Option<usize>) -> Self {
        let neighbours = (cfg.error_window / 4).max(MIN_ERRORS);
        let h = cfg.horizon_steps();
        Walk {
            cfg,
            params,
            state: State::init(train, &params),
            pending: VecDeque::new(),
            errors_h: ConditionalErrors::new(cfg.error_window, neighbours),
            errors_k: if per_step_from.is_some() {
                vec![ConditionalErrors::new(cfg.error_window, neighbours); h]
            } else {
                vec![]
            },
            per_step_from: per_step_from.unwrap_or(usize::MAX),
            neighbours,
            shifts: cfg.cover_level_shifts.then(|| LevelShifts::new(cfg.error_window, h)),
            t: 0,
            baseline: DecayingHistogram::default(),
            p90: AdaptiveLevel::new(0.1),
            upper: (cfg.at_most_baseline_misses || cfg.upper_exceedance.is_some())
                .then(|| TailDepth::new(1.0 - cfg.upper_quantile, TAIL_FROM)),
            price: cfg.cover_level_shifts.then(|| MissPrice::new(1.0 - cfg.upper_quantile)),
            peak: 0.0,
            quiet: QuietPhases::new(cfg.period_steps(), QUIET_DAYS, h / 2),
        }
    }

    /// What an error of a forecast of `forecast` is kept in: where the fitting history's errors
    /// grew with the level (`holt_winters::relative_floor`: a busy afternoon varies by more than
    /// a quiet night), a share of the forecast (below the fitted floor, of that share of the
    /// largest value seen); elsewhere the series' own units.
    fn scale(&self, forecast: f64) -> f64 {
        let Some(floor) = self.params.relative_floor else { return 1.0 };
        forecast.abs().max(floor * self.peak).max(f64::MIN_POSITIVE)
    }

    /// The errors of the past forecasts nearest to `forecast`, in the series' units for it,
    /// in no particular order.
    fn errors_near(&self, errors: &ConditionalErrors, forecast: f64) -> Vec<f64> {
        let scale = self.scale(forecast);
        errors.nearest_unsorted(forecast).into_iter().map(|e| e * scale).collect()
    }

    /// Usage is never negative and never above the resource's capacity.
    fn clamp(&self, v: f64) -> f64 {
        let v = v.max(0.0);
        self.cfg.capacity.map_or(v, |c| v.min(c))
    }

    /// The upper recommendation for `fh` given the errors `e` of forecasts near it (reordered),
    /// and how it was sized: zero in a quiet time of day; priced (`shift_cover`) where level
    /// shifts were seen; else drawn at `upper_quantile` or the calibrated depth.
    fn upper(&self, fh: f64, e: &mut [f64]) -> (f64, Sizing) {
        if self.quiet.quiet_ahead(self.cfg.horizon_steps()) {
            return (0.0, Sizing::Quiet);
        }
        if let (Some(risk), Some(price)) = (self.shift_risk(), &self.price) {
            // The upper half of the outcomes without a shift: the size is never below the median.
            let mid = e.len() / 2;
            if mid < e.len() {
                e.select_nth_unstable_by(mid, f64::total_cmp);
            }
            let mut tail: Vec<f64> = e[mid..].iter().map(|&v| self.clamp(fh + v)).collect();
            tail.sort_unstable_by(f64::total_cmp);
            if let Some(size) = risk.size(fh, &tail, e.len(), price.price()) {
                return (size, Sizing::Priced);
            }
        }
        let error = match &self.upper {
            Some(depth) => quantile_at_depth(e, TAIL_FROM, depth.depth()),
            None => quantile_unsorted(e, self.cfg.upper_quantile),
        };
        (self.clamp(fh + error.unwrap_or(0.0)), Sizing::Errors)
    }

    /// The levels past shifts settled at (the season of the horizon added), each covered with
    /// the upper quantile of the errors of forecasts of that level; `None` without
    /// `cover_level_shifts` or while no shift is among the recent outcomes.
    fn shift_risk(&self) -> Option<ShiftRisk> {
        let shifts = self.shifts.as_ref()?;
        let to = shifts.destinations(DESTINATIONS)?;
        let season = self.state.season_ahead(self.cfg.horizon_steps());
        let cover = |level: f64| {
            let at = level + season;
            let mut e = self.errors_near(&self.errors_h, at);
            self.clamp(at + quantile_unsorted(&mut e, self.cfg.upper_quantile).unwrap_or(0.0))
        };
        let seen = (1.0 - to.above_share) / to.quantiles.len() as f64;
        let mut covers: Vec<(f64, f64)> =
            to.quantiles.iter().map(|&d| (cover(d), seen)).chain([(cover(to.above), to.above_share)]).collect();
        covers.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        Some(ShiftRisk { rate: shifts.rate(), covers })
    }

    /// The share of misses the calibrated upper recommendation aims at: `upper_exceedance` where
    /// set; else, for an outcome the
    /// baseline did or did not miss: `BASELINE_MISS_SHARE` of the baseline's, judged outcome by
    /// outcome. The baseline's first season is its cold start (its histogram has not seen a
    /// whole day), not a rate to match: until then, `1 − upper_quantile`.
    fn upper_target(&self, origin: usize, baseline_missed: Option<bool>) -> f64 {
        if let Some(share) = self.cfg.upper_exceedance {
            return share;
        }
        match baseline_missed {
            Some(missed) if origin >= self.cfg.period_steps() => {
                if missed {
                    BASELINE_MISS_SHARE
                } else {
                    0.0
                }
            }
            _ => 1.0 - self.cfg.upper_quantile,
        }
    }

    /// Consume the value at `ts_ms`; returns the forecast for `horizon` later once bands exist.
    pub fn step(&mut self, ts_ms: i64, y: f64) -> Option<OriginForecast> {
        let h = self.cfg.horizon_steps();
        if y.is_finite() {
            self.peak = self.peak.max(y.abs());
        }
        // pending[j] was made j+1 steps ago: its forecast of this value is its step j+1.
        for (j, Origin { steps: f, issued, sized, level, error_range }) in self.pending.iter().enumerate() {
            let origin = self.t - (j + 1);
            if j + 1 == h {
                let error = y - f[j];
                self.errors_h.push(f[j], error / self.scale(f[j]));
                if let (Some(shifts), Some((lo, hi))) = (&mut self.shifts, error_range) {
                    shifts.outcome(self.t, (error < *lo || error > *hi).then_some((*level, error)));
                }
                if let Some(o) = issued {
                    self.p90.update(y > o.p90);
                    let target = match self.upper {
                        Some(_) => self.upper_target(origin, o.baseline.map(|b| y > b)),
                        None => 1.0 - self.cfg.upper_quantile,
                    };
                    // Each way of sizing learns from its own outcomes only.
                    match (&mut self.price, &mut self.upper, sized) {
                        (Some(price), _, Sizing::Priced) => {
                            price.set_target(target);
                            price.update(y > o.upper);
                        }
                        (_, Some(depth), Sizing::Errors) => {
                            depth.set_target(target);
                            depth.update(y > o.upper);
                        }
                        _ => {}
                    }
                }
            }
            if origin >= self.per_step_from {
                let scale = self.scale(f[j]);
                self.errors_k[j].push(f[j], (y - f[j]) / scale);
            }
        }
        if let Some(shifts) = &mut self.shifts {
            shifts.observe(self.t, y - self.state.season_ahead(1));
        }
        self.state.update(y, &self.params);
        self.quiet.observe(y);
        self.baseline.add(ts_ms, y);
        self.t += 1;
        let f: Vec<f64> = (1..=h).map(|k| self.state.forecast(k, &self.params)).collect();
        let fh = f[h - 1];
        let mut error_range = None;
        let mut sized = Sizing::Errors;
        let issued = (self.errors_h.len() >= MIN_ERRORS).then(|| {
            let mut e = self.errors_near(&self.errors_h, fh);
            if self.shifts.is_some() && e.len() >= self.neighbours {
                error_range =
                    Some(e.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v))));
            }
            let mut q = |p: f64| self.clamp(fh + quantile_unsorted(&mut e, p).unwrap_or(0.0));
            let (p50, p90) = (q(0.5), q(self.p90.quantile()));
            let upper;
            (upper, sized) = self.upper(fh, &mut e);
            OriginForecast { p50, p90, upper, baseline: self.baseline.recommendation() }
        });
        self.pending.push_front(Origin { steps: f, issued, sized, level: self.state.level(), error_range });
        self.pending.truncate(h);
        issued
    }

    /// The forecast from the latest origin, each step with its own error quantiles.
    pub fn points(&self, last_ts: i64) -> Vec<ForecastPoint> {
        let Some(Origin { steps: f, .. }) = self.pending.front() else { return vec![] };
        let p90 = self.p90.quantile();
        f.iter()
            .zip(&self.errors_k)
            .enumerate()
            .map(|(j, (&v, errs))| {
                let scale = self.scale(v);
                let e = errs.nearest(v);
                let q = |p| self.clamp(v + scale * quantile_sorted(&e, p).unwrap_or(0.0));
                ForecastPoint {
                    ts_ms: last_ts + (j as i64 + 1) * self.cfg.step_ms,
                    p10: q(0.1),
                    p50: q(0.5),
                    p90: q(p90),
                }
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

    #[test]
    fn a_night_at_zero_every_day_is_sized_at_zero_and_only_there() {
        // A day of 60 ± 3 % from 06:00 to 22:00 and exactly zero at night.
        let cfg = ForecastConfig { capacity: Some(100.0), at_most_baseline_misses: true, ..ForecastConfig::default() };
        let mut rng = crate::profile::traces::Rng::new(2);
        let busy = |t: usize| (360..1320).contains(&(t % 1440));
        let y: Vec<f64> =
            (0..4 * 1440).map(|t| if busy(t) { 60.0 * (1.0 + 0.03 * rng.normal()) } else { 0.0 }).collect();
        let h = cfg.horizon_steps();
        let mut walk = Walk::new(&cfg, fit(&y[..2 * 1440], cfg.period_steps(), h), &y, None);
        let mut zero = vec![];
        for (t, &v) in y.iter().enumerate() {
            let Some(o) = walk.step(t as i64 * 60_000, v) else { continue };
            if o.upper == 0.0 {
                zero.push(t + h);
            }
        }
        // Once two nights were seen, all night minutes half a horizon or more from the day are
        // sized at zero, and only those (before, the errors' quantile may come to zero too).
        let far_from_day = |t: usize| !(0..=h / 2).any(|d| busy(t + d) || busy(t + 1440 - d));
        let near_day: Vec<usize> = zero.iter().copied().filter(|&t| t >= 2 * 1440 && !far_from_day(t)).collect();
        assert!(near_day.is_empty(), "a busy minute or one near it sized at zero: {near_day:?}");
        let last_night: Vec<usize> = (3 * 1440..4 * 1440).filter(|&t| far_from_day(t)).collect();
        assert_eq!(last_night.len(), 1440 - 960 - 2 * (h / 2));
        assert!(last_night.iter().all(|t| zero.contains(t)));
    }

    /// 10 h stays at 60, 25, 80, 40, 70 and 30, then four times 5 h at 15 and 2 h at 70, then
    /// 30 h at 15, then back to 70; 2 % noise. Returns the series and the step of the last jump.
    fn steps_then_a_long_stay() -> (Vec<f64>, usize) {
        let mut rng = crate::profile::traces::Rng::new(11);
        let mut levels: Vec<f64> = [60.0, 25.0, 80.0, 40.0, 70.0, 30.0].iter().flat_map(|&l| [l; 600]).collect();
        for _ in 0..4 {
            levels.extend([15.0; 300]);
            levels.extend([70.0; 120]);
        }
        levels.extend([15.0; 30 * 60]);
        let jump = levels.len();
        levels.extend([70.0; 120]);
        (levels.iter().map(|l| l * (1.0 + 0.02 * rng.normal())).collect(), jump)
    }

    #[test]
    fn a_level_shift_after_a_long_stay_is_covered() {
        // Misses allowed at 0.1 %: fewer than the outcomes that level shifts changed. The jumps
        // from 15 to 70 that were missed priced a miss above the slack of reaching 70 from 15.
        let cfg = ForecastConfig {
            capacity: Some(100.0),
            upper_quantile: 0.999,
            at_most_baseline_misses: false,
            cover_level_shifts: true,
            ..ForecastConfig::default()
        };
        let (y, jump) = steps_then_a_long_stay();
        let h = cfg.horizon_steps();
        let mut walk = Walk::new(&cfg, fit(&y[..jump], 0, h), &y, None);
        for (t, &v) in y.iter().enumerate() {
            let Some(o) = walk.step(t as i64 * 60_000, v) else { continue };
            // Origins whose horizon ends after the jump: their forecast knows only the stay,
            // and the errors of forecasts near 15 all come from it (the p90 band, drawn from
            // them alone, stays near 15).
            if (jump - h..jump).contains(&t) {
                assert!(o.p90 < 20.0, "t={t}: {o:?}");
                assert!(o.upper >= y[t + h], "t={t}: {} misses {}", o.upper, y[t + h]);
            }
        }
        assert!(walk.shifts.as_ref().unwrap().rate() > 1.0 - cfg.upper_quantile);
    }

    #[test]
    fn without_shifts_the_upper_recommendation_is_the_error_quantile() {
        // A daily cycle with noise: forecast well, nothing settles anywhere new, so covering
        // shifts changes nothing.
        let plain = ForecastConfig { capacity: Some(100.0), ..ForecastConfig::default() };
        let cfg = ForecastConfig { cover_level_shifts: true, ..plain };
        let mut rng = crate::profile::traces::Rng::new(3);
        let y: Vec<f64> = (0..3 * 1440)
            .map(|t| 40.0 + 20.0 * (t as f64 * std::f64::consts::TAU / 1440.0).sin() + rng.normal())
            .collect();
        let params = fit(&y, cfg.period_steps(), cfg.horizon_steps());
        let mut walk = Walk::new(&cfg, params, &y, None);
        let mut without = Walk::new(&plain, params, &y, None);
        let mut issued = 0;
        for (t, &v) in y.iter().enumerate() {
            let (o, p) = (walk.step(t as i64 * 60_000, v), without.step(t as i64 * 60_000, v));
            assert_eq!(o.map(|o| o.upper), p.map(|p| p.upper), "t={t}");
            issued += usize::from(o.is_some());
            assert_eq!(walk.shift_risk(), None, "t={t}");
        }
        assert!(issued > 1440);
        assert_eq!(walk.shifts.as_ref().unwrap().rate(), 0.0);
    }
}
