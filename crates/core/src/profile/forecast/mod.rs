//! Usage forecasts with honest bands: damped Holt-Winters (a daily season once two days of
//! history exist, a weekly one once two weeks do and it forecasts better: [`seasons`]), prediction bands from the empirical distribution of its own recent errors at
//! each horizon, an upper recommendation for sizing, the VPA-style baseline beside it, and the
//! accuracy both had when replayed over the stored history.

pub mod backtest;
pub mod calibration;
pub mod engine;
pub mod holt_winters;
pub mod quantiles;
pub mod quiet_phases;
pub mod regular;
pub mod seasons;
pub mod shift_cover;
pub mod shifts;
pub mod vpa;
pub mod vpa_sweep;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{Reading, TimestampMs};

pub const DAY_MS: i64 = 86_400_000;

/// What the forecaster is asked for. `Default`: 30 minutes ahead at 1-minute steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastConfig {
    pub horizon_ms: i64,
    pub step_ms: i64,
    pub season_ms: i64,
    /// How many recent errors the bands are drawn from (four days of steps: rare jumps such as
    /// a job starting or a level changing are seen often enough to size for them).
    pub error_window: usize,
    /// The quantile of errors the upper recommendation covers without `at_most_baseline_misses`
    /// (with it: where its calibration starts, and its target until the baseline has a day).
    pub upper_quantile: f64,
    /// Calibrate the upper recommendation on this series' outcomes so that it is exceeded at most
    /// [`engine::BASELINE_MISS_SHARE`] as often as the VPA-style baseline's was (a size at least
    /// as safe as the baseline's, usually with less slack) instead of at `upper_quantile`. On by
    /// default: the 97th quantile alone misses several times as often as the baseline on daily
    /// and stepping usage, and calibrated sizes still meet the slack goal (README, Forecasts).
    pub at_most_baseline_misses: bool,
    /// Calibrate the upper recommendation on this series' outcomes to be exceeded this share of
    /// the time (0.02: 2 %), the user's trade-off between misses and slack; it takes the place
    /// of `at_most_baseline_misses`' target. `None` by default; the profile report sets
    /// `[profile] upper_exceedance_pct`.
    pub upper_exceedance: Option<f64>,
    /// Where level shifts were seen ([`shifts`]), price the upper recommendation per origin
    /// ([`shift_cover`]): after a long stay the errors at its level contain no jump, yet the
    /// stay will end; covering the levels shifts settle at is cheap from high levels and dear
    /// from low ones. Off by default: it did not beat the baseline on every held-out range.
    pub cover_level_shifts: bool,
    /// What the resource has (100 for percent, total bytes for memory): no band goes above it.
    pub capacity: Option<f64>,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        ForecastConfig {
            horizon_ms: 30 * 60_000,
            step_ms: 60_000,
            season_ms: DAY_MS,
            error_window: 4 * 1440,
            upper_quantile: 0.97,
            at_most_baseline_misses: true,
            upper_exceedance: None,
            cover_level_shifts: false,
            capacity: None,
        }
    }
}

impl ForecastConfig {
    pub fn horizon_steps(&self) -> usize {
        ((self.horizon_ms + self.step_ms - 1) / self.step_ms).max(1) as usize
    }

    pub fn period_steps(&self) -> usize {
        (self.season_ms / self.step_ms).max(1) as usize
    }

    /// Fewest steps that give a forecast with bands: warm-up plus enough errors to draw them from.
    pub fn min_steps(&self) -> usize {
        let h = self.horizon_steps();
        (6 * h).max(2 * h + engine::MIN_ERRORS)
    }

    /// Steps needed before the daily season is modelled.
    pub fn seasonal_steps(&self) -> usize {
        2 * self.period_steps()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ForecastPoint {
    pub ts_ms: TimestampMs,
    /// 10 % of outcomes are expected below this, 50 % below `p50`, 90 % below `p90`.
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// How the forecaster and the baseline did when replayed over the stored history: at each
/// origin a forecast was made from the data before it and compared with the value `horizon`
/// later (parameters fitted on the earlier part only).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Accuracy {
    pub origins: u32,
    pub horizon_ms: i64,
    /// Mean absolute error of the median forecast.
    pub p50_mae: f64,
    /// Share of outcomes above the p90 band (well calibrated: about 10 %).
    pub p90_exceeded_pct: f64,
    /// Share of outcomes above the upper recommendation.
    pub upper_exceeded_pct: f64,
    /// Mean of (recommendation − usage) / recommendation where usage fits under it: over-provisioning.
    pub upper_slack_pct: f64,
    pub baseline_exceeded_pct: f64,
    pub baseline_slack_pct: f64,
    /// The baseline tuned to the same exceedance: its margin over the p90 (VPA's is 15 %) swept
    /// to the smallest that is exceeded no more often than the upper recommendation was, and
    /// that margin's exceedance and slack (to compare slack at equal exceedance).
    pub matched_baseline_margin_pct: f64,
    pub matched_baseline_exceeded_pct: f64,
    pub matched_baseline_slack_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "status", rename_all = "snake_case")]
#[ts(export)]
pub enum Forecast {
    Ready {
        /// The model and its season: `holt_winters_weekly` (a season per week, which carries
        /// each weekday's shape), `holt_winters_daily` or `holt_damped` (no season: too little
        /// history, or the season did not help; `note` says which).
        model: String,
        /// What the model does not yet account for, and why.
        note: Option<String>,
        step_ms: i64,
        points: Vec<ForecastPoint>,
        /// A size for `horizon` from now: the forecast plus the upper quantile of past errors.
        upper_recommendation: f64,
        /// The VPA-style decaying-histogram recommendation (p90 + 15 %).
        baseline_recommendation: f64,
        backtest: Reading<Accuracy>,
    },
    /// Too little history to forecast honestly: how much there is and how much is needed.
    InsufficientHistory { have_ms: i64, need_ms: i64, reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SeriesForecast {
    /// The history series, e.g. `cpu.total` or `module.train.rss`.
    pub series: String,
    pub label: String,
    pub unit: String,
    pub horizon_ms: i64,
    pub forecast: Forecast,
}
