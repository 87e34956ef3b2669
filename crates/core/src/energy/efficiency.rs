//! How efficiently a device uses its energy, from history: the share drawn while idle, its
//! power–utilization line, and the energy its forecast utilization will take.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Below this utilization (percent) a device counts as idle.
pub const IDLE_BELOW_PCT: f64 = 5.0;
/// Fewer points than this, or a utilization spread narrower than [`MIN_SPREAD_PCT`], fit no line.
pub const MIN_POINTS: usize = 10;
pub const MIN_SPREAD_PCT: f64 = 10.0;

/// `P(u) = idle_w + (max_w − idle_w) × u / 100`, fitted by least squares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PowerCurve {
    /// Power at 0 % utilization.
    pub idle_w: f64,
    /// Power at 100 % utilization.
    pub max_w: f64,
    /// Coefficient of determination: how well the line fits (1 = exactly).
    pub r2: f64,
    pub points: usize,
}

impl PowerCurve {
    pub fn power_w(&self, util_pct: f64) -> f64 {
        self.idle_w + (self.max_w - self.idle_w) * util_pct.clamp(0.0, 100.0) / 100.0
    }
}

/// Fits the line through `(utilization %, watts)` points, or says why it cannot.
pub fn fit_curve(points: &[(f64, f64)]) -> Result<PowerCurve, String> {
    let n = points.len();
    if n < MIN_POINTS {
        return Err(format!("{n} points of history with both power and utilization; {MIN_POINTS} needed"));
    }
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (u, _)| (lo.min(*u), hi.max(*u)));
    if hi - lo < MIN_SPREAD_PCT {
        return Err(format!(
            "utilization stayed within {lo:.0}–{hi:.0} %; a spread of {MIN_SPREAD_PCT:.0} points is needed to fit"
        ));
    }
    let nf = n as f64;
    let mean_u = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let mean_p = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxy: f64 = points.iter().map(|(u, p)| (u - mean_u) * (p - mean_p)).sum();
    let sxx: f64 = points.iter().map(|(u, _)| (u - mean_u).powi(2)).sum();
    let syy: f64 = points.iter().map(|(_, p)| (p - mean_p).powi(2)).sum();
    let slope = sxy / sxx;
    let idle_w = mean_p - slope * mean_u;
    let r2 = if syy > 0.0 { (sxy * sxy) / (sxx * syy) } else { 1.0 };
    Ok(PowerCurve { idle_w, max_w: idle_w + slope * 100.0, r2, points: n })
}

/// Share (0–1) of the energy in `(utilization %, joules)` buckets drawn while idle; `None`
/// without energy.
pub fn idle_share(buckets: &[(f64, f64)]) -> Option<f64> {
    let total: f64 = buckets.iter().map(|b| b.1).sum();
    let idle: f64 = buckets.iter().filter(|b| b.0 < IDLE_BELOW_PCT).map(|b| b.1).sum();
    (total > 0.0).then(|| idle / total)
}

/// Joules the device will draw over forecast `(utilization %)` steps of `step_ms` each.
pub fn forecast_joules(curve: &PowerCurve, util_steps: &[f64], step_ms: i64) -> f64 {
    util_steps.iter().map(|u| curve.power_w(*u) * step_ms as f64 / 1000.0).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_a_line_through_history_and_says_why_not() {
        let pts: Vec<(f64, f64)> = (0..=20).map(|i| (i as f64 * 5.0, 50.0 + 2.0 * i as f64 * 5.0)).collect();
        let c = fit_curve(&pts).unwrap();
        assert!((c.idle_w - 50.0).abs() < 1e-9 && (c.max_w - 250.0).abs() < 1e-9 && (c.r2 - 1.0).abs() < 1e-9);
        assert_eq!(forecast_joules(&c, &[50.0, 100.0], 60_000), (150.0 + 250.0) * 60.0);
        assert!(fit_curve(&pts[..5]).unwrap_err().contains("5 points"));
        let flat: Vec<(f64, f64)> = (0..20).map(|i| (40.0 + (i % 3) as f64, 100.0)).collect();
        assert!(fit_curve(&flat).unwrap_err().contains("spread"));
    }

    #[test]
    fn idle_share_counts_energy_below_five_percent() {
        assert_eq!(idle_share(&[(1.0, 30.0), (80.0, 60.0), (4.9, 10.0)]), Some(0.4));
        assert_eq!(idle_share(&[]), None);
    }
}
