//! Forecasting a regular series, and replaying the forecaster over history to measure it.

use super::engine::{OriginForecast, Walk};
use super::seasons::choose;
use super::vpa_sweep::match_exceedance;
use super::{Accuracy, DAY_MS, Forecast, ForecastConfig};
use crate::Reading;

/// Share of a series used to fit parameters before the replay is scored.
const FIT_SHARE: f64 = 0.4;

/// Forecast `horizon` past the end of `y` (regular, starting at `start_ms`).
pub fn forecast(y: &[f64], start_ms: i64, cfg: &ForecastConfig) -> Forecast {
    let need = cfg.min_steps();
    if y.len() < need {
        return Forecast::InsufficientHistory {
            have_ms: y.len() as i64 * cfg.step_ms,
            need_ms: need as i64 * cfg.step_ms,
            reason: format!(
                "a {} forecast needs {} of history; there is {}",
                duration(cfg.horizon_ms),
                duration(need as i64 * cfg.step_ms),
                duration(y.len() as i64 * cfg.step_ms)
            ),
        };
    }
    let (params, model, note) = choose(y, cfg);
    let keep_from = y.len().saturating_sub(cfg.error_window + cfg.horizon_steps());
    let mut walk = Walk::new(cfg, params, y, Some(keep_from));
    let mut last = None;
    for (i, &v) in y.iter().enumerate() {
        last = walk.step(start_ms + i as i64 * cfg.step_ms, v).or(last);
    }
    let last_ts = start_ms + (y.len() as i64 - 1) * cfg.step_ms;
    let Some(o) = last else {
        return Forecast::InsufficientHistory {
            have_ms: y.len() as i64 * cfg.step_ms,
            need_ms: need as i64 * cfg.step_ms,
            reason: "too few forecast errors yet to draw bands from".into(),
        };
    };
    Forecast::Ready {
        model: model.into(),
        note,
        step_ms: cfg.step_ms,
        points: walk.points(last_ts),
        upper_recommendation: o.upper,
        baseline_recommendation: o.baseline.unwrap_or(f64::NAN),
        backtest: backtest(y, start_ms, cfg),
    }
}

/// Replays the forecaster over `y`: parameters fitted on the first 40 %, scored on the rest.
pub fn backtest(y: &[f64], start_ms: i64, cfg: &ForecastConfig) -> Reading<Accuracy> {
    let h = cfg.horizon_steps();
    let fit_len = (y.len() as f64 * FIT_SHARE) as usize;
    if fit_len < cfg.min_steps() || y.len() - fit_len < 2 * h {
        return Reading::unavailable(format!(
            "backtesting needs {} of history; there is {}",
            duration((cfg.min_steps() as f64 / FIT_SHARE).ceil() as i64 * cfg.step_ms),
            duration(y.len() as i64 * cfg.step_ms)
        ));
    }
    let (params, _, _) = choose(&y[..fit_len], cfg);
    let mut walk = Walk::new(cfg, params, &y[..fit_len], None);
    let mut scored = Vec::new();
    for (i, &v) in y.iter().enumerate() {
        let o = walk.step(start_ms + i as i64 * cfg.step_ms, v);
        if let Some(o) = o.filter(|_| i >= fit_len && i + h < y.len()) {
            scored.push((o, y[i + h]));
        }
    }
    score(&scored, cfg.horizon_ms).map_or_else(|| Reading::unavailable("no origin had bands yet"), Reading::from)
}

/// Accuracy of (forecast, actual) pairs.
pub fn score(pairs: &[(OriginForecast, f64)], horizon_ms: i64) -> Option<Accuracy> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let pct = |c: usize| 100.0 * c as f64 / n;
    let slack = |rec: f64, y: f64| if rec > 0.0 && y <= rec { (rec - y) / rec } else { 0.0 };
    let baseline: Vec<(f64, f64)> = pairs.iter().filter_map(|(o, y)| Some((o.baseline?, *y))).collect();
    let nb = baseline.len().max(1) as f64;
    let upper_exceeded = pairs.iter().filter(|(o, y)| *y > o.upper).count();
    let matched = match_exceedance(&baseline, upper_exceeded as f64 / n);
    Some(Accuracy {
        origins: pairs.len() as u32,
        horizon_ms,
        p50_mae: pairs.iter().map(|(o, y)| (o.p50 - y).abs()).sum::<f64>() / n,
        p90_exceeded_pct: pct(pairs.iter().filter(|(o, y)| *y > o.p90).count()),
        upper_exceeded_pct: pct(upper_exceeded),
        upper_slack_pct: 100.0 * pairs.iter().map(|(o, y)| slack(o.upper, *y)).sum::<f64>() / n,
        baseline_exceeded_pct: 100.0 * baseline.iter().filter(|(b, y)| y > b).count() as f64 / nb,
        baseline_slack_pct: 100.0 * baseline.iter().map(|(b, y)| slack(*b, *y)).sum::<f64>() / nb,
        matched_baseline_margin_pct: matched.margin_pct,
        matched_baseline_exceeded_pct: matched.exceeded_pct,
        matched_baseline_slack_pct: matched.slack_pct,
    })
}

/// `90 min`, `5 h`, `2 d`: durations as the messages say them.
pub fn duration(ms: i64) -> String {
    let min = ms as f64 / 60_000.0;
    if ms >= 2 * DAY_MS {
        format!("{:.1} days", ms as f64 / DAY_MS as f64)
    } else if min >= 120.0 {
        format!("{:.1} h", min / 60.0)
    } else {
        format!("{min:.0} min")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::traces;

    fn ready(f: &Forecast) -> (&str, &[super::super::ForecastPoint], f64) {
        match f {
            Forecast::Ready { model, points, upper_recommendation, .. } => (model, points, *upper_recommendation),
            other => panic!("not ready: {other:?}"),
        }
    }

    #[test]
    fn too_little_history_says_how_much_is_needed() {
        let f = forecast(&[1.0; 30], 0, &ForecastConfig::default());
        match f {
            Forecast::InsufficientHistory { have_ms, need_ms, reason } => {
                assert_eq!(have_ms, 30 * 60_000);
                assert_eq!(need_ms, 180 * 60_000);
                assert!(reason.contains("3.0 h"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn known_trend_and_daily_season_are_forecast() {
        // 4 days: 40 + 0.002/min trend + 20·sin(day) + small noise.
        let cfg = ForecastConfig::default();
        let truth = |t: usize| 40.0 + 0.002 * t as f64 + 20.0 * (t as f64 * std::f64::consts::TAU / 1440.0).sin();
        let mut rng = traces::Rng::new(7);
        let y: Vec<f64> = (0..4 * 1440).map(|t| truth(t) + rng.normal() * 0.5).collect();
        let f = forecast(&y, 0, &cfg);
        let (model, points, upper) = ready(&f);
        assert_eq!(model, "holt_winters_daily");
        assert_eq!(points.len(), 30);
        for (k, p) in points.iter().enumerate() {
            let want = truth(y.len() + k);
            assert!((p.p50 - want).abs() < 1.5, "step {k}: {} vs {want}", p.p50);
            assert!(p.p10 <= p.p50 && p.p50 <= p.p90);
        }
        let peak = (0..30).map(|k| truth(y.len() + k)).fold(f64::MIN, f64::max);
        assert!(upper >= peak && upper < peak * 1.1, "{upper} vs {peak}");
        let acc = match &f {
            Forecast::Ready { backtest, .. } => *backtest.value().unwrap(),
            _ => unreachable!(),
        };
        assert!((5.0..=15.0).contains(&acc.p90_exceeded_pct), "{acc:?}");
        assert!(acc.upper_slack_pct < acc.baseline_slack_pct, "{acc:?}");
    }

    #[test]
    fn calibrated_bands_hit_their_targets_on_a_step_trace() {
        // A tuning seed (the benchmark's held-out seeds start at 101).
        let y = traces::Family::StepChanges.generate(3, 6);
        let cfg = ForecastConfig { capacity: Some(100.0), at_most_baseline_misses: false, ..ForecastConfig::default() };
        let q97 = *backtest(&y, 0, &cfg).value().unwrap();
        assert!((7.0..=13.0).contains(&q97.p90_exceeded_pct), "p90 calibrated to about 10 %: {q97:?}");
        let matched = *backtest(&y, 0, &ForecastConfig { at_most_baseline_misses: true, ..cfg }).value().unwrap();
        assert!(matched.upper_exceeded_pct < q97.upper_exceeded_pct, "{matched:?} vs {q97:?}");
        assert!(matched.upper_slack_pct > q97.upper_slack_pct, "fewer misses cost slack");
    }

    #[test]
    fn calibrated_upper_misses_less_than_the_baseline_with_less_slack() {
        // Tuning seeds (the benchmark checks the held-out ones). Misses are judged per series;
        // on bursty batch the slack is close, so it is judged over the four series together.
        let cfg = ForecastConfig { capacity: Some(100.0), at_most_baseline_misses: true, ..ForecastConfig::default() };
        let runs = [(traces::Family::Diurnal, 1), (traces::Family::StepChanges, 1)]
            .into_iter()
            .chain((1..=4).map(|seed| (traces::Family::BurstyBatch, seed)));
        let mut bursty = (0.0, 0.0);
        for (family, seed) in runs {
            let a = *backtest(&family.generate(seed, 8), 0, &cfg).value().unwrap();
            assert!(a.upper_exceeded_pct <= a.baseline_exceeded_pct, "{family:?} {seed}: {a:?}");
            if family == traces::Family::BurstyBatch {
                bursty = (bursty.0 + a.upper_slack_pct, bursty.1 + a.baseline_slack_pct);
            } else {
                assert!(a.upper_slack_pct < a.baseline_slack_pct, "{family:?} {seed}: {a:?}");
            }
        }
        assert!(bursty.0 < bursty.1, "{bursty:?}");
    }

    #[test]
    fn bursts_at_random_times_get_no_daily_season_and_say_why() {
        let y = traces::Family::BurstyBatch.generate(1, 3);
        match forecast(&y, 0, &ForecastConfig::default()) {
            Forecast::Ready { model, note, .. } => {
                assert_eq!(model, "holt_damped");
                assert!(note.unwrap().contains("no daily pattern"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hours_of_history_forecast_without_season_and_say_so() {
        let y: Vec<f64> = (0..300).map(|t| 10.0 + (t % 7) as f64).collect();
        match forecast(&y, 0, &ForecastConfig::default()) {
            Forecast::Ready { model, note, backtest, .. } => {
                assert_eq!(model, "holt_damped");
                assert!(note.unwrap().contains("2.0 days"));
                assert!(backtest.reason().unwrap().contains("backtesting needs"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn horizon_is_a_parameter() {
        let y: Vec<f64> = (0..2000).map(|t| 50.0 + (t % 13) as f64).collect();
        let cfg = ForecastConfig { horizon_ms: 10 * 60_000, ..ForecastConfig::default() };
        let f = forecast(&y, 0, &cfg);
        let (_, points, _) = ready(&f);
        assert_eq!(points.len(), 10);
        assert_eq!(points[9].ts_ms, 1999 * 60_000 + 10 * 60_000);
    }
}
