//! Which seasons a history supports: none, a daily one once two days exist, and a weekly one
//! (which carries the day's shape per weekday) once two weeks exist, chosen by how well each
//! forecast the last week of the history from the values before each forecast.

use super::backtest::duration;
use super::holt_winters::{Params, fit, mae_from};
use super::{DAY_MS, ForecastConfig};

pub const WEEK_MS: i64 = 7 * DAY_MS;
/// A weekly season must forecast the last week this much better than the daily one: it learns
/// seven times as many values from a seventh as many cycles.
const WEEKLY_GAIN: f64 = 0.97;

/// The model for `y`: its params, its name and a note on what it leaves out.
pub fn choose(y: &[f64], cfg: &ForecastConfig) -> (Params, &'static str, Option<String>) {
    let h = cfg.horizon_steps();
    if y.len() < cfg.seasonal_steps() {
        let note = format!(
            "no daily seasonality yet: it needs {} of history, there is {}",
            duration(cfg.seasonal_steps() as i64 * cfg.step_ms),
            duration(y.len() as i64 * cfg.step_ms)
        );
        return (fit(y, 0, h), "holt_damped", Some(note));
    }
    let daily = fit(y, cfg.period_steps(), h);
    let week = (WEEK_MS / cfg.step_ms) as usize;
    if y.len() >= 2 * week {
        let weekly = fit(y, week, h);
        let last_week = y.len() - week;
        if weekly.period > 0 && mae_from(y, &weekly, h, last_week) < WEEKLY_GAIN * mae_from(y, &daily, h, last_week) {
            return (weekly, "holt_winters_weekly", None);
        }
    }
    if daily.period > 0 {
        (daily, "holt_winters_daily", None)
    } else {
        (daily, "holt_damped", Some("no daily pattern: a daily season did not forecast this history better".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::traces::Rng;

    /// `days` of a daily shape that is three times as high on weekdays as at weekends.
    fn weekday_weekend(days: usize) -> Vec<f64> {
        let mut rng = Rng::new(11);
        (0..days * 1440)
            .map(|t| {
                let weekday = (t / 1440) % 7 < 5;
                let shape = 10.0 + 10.0 * (t as f64 * std::f64::consts::TAU / 1440.0).sin();
                shape * if weekday { 3.0 } else { 1.0 } + rng.normal()
            })
            .collect()
    }

    #[test]
    fn two_weeks_of_weekday_and_weekend_days_learn_the_week() {
        let cfg = ForecastConfig::default();
        assert_eq!(choose(&weekday_weekend(15), &cfg).1, "holt_winters_weekly");
        // Less than two weeks: the week cannot be learnt yet.
        assert_eq!(choose(&weekday_weekend(13), &cfg).1, "holt_winters_daily");
    }

    #[test]
    fn the_same_day_every_day_keeps_the_daily_season() {
        let mut rng = Rng::new(5);
        let y: Vec<f64> = (0..15 * 1440)
            .map(|t| 30.0 + 20.0 * (t as f64 * std::f64::consts::TAU / 1440.0).sin() + rng.normal())
            .collect();
        assert_eq!(choose(&y, &ForecastConfig::default()).1, "holt_winters_daily");
    }
}
