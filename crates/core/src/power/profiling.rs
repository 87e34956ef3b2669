//! Which power limits to profile, Zeus-style: a coarse sweep from the maximum down to the
//! minimum, then two points either side of the coarse choice so the fit is finest where it is
//! used, and the baseline once more (the baseline is what every estimate divides by, so it is
//! measured twice; the second time also catches a workload that changed meanwhile). The
//! caller measures each for a few seconds and feeds the points back.

use crate::power::curve::{ProfilePoint, sorted};
use crate::power::planner::{Objective, choose};

/// `n` limits evenly spaced from `max_w` down to `min_w` (the first is the maximum).
pub fn coarse_limits(min_w: f64, max_w: f64, n: usize) -> Vec<f64> {
    if n <= 1 || max_w <= min_w {
        return vec![max_w];
    }
    let step = (max_w - min_w) / (n - 1) as f64;
    (0..n).map(|i| (max_w - step * i as f64).round()).collect()
}

/// Up to two more limits, half a coarse step either side of the current choice, that are not
/// profiled yet and lie within the constraints; then the baseline again.
pub fn refine_limits(points: &[ProfilePoint], baseline_w: f64, objective: Objective, min_w: f64) -> Vec<f64> {
    let pts = sorted(points);
    let Some(choice) = choose(&pts, baseline_w, objective) else { return Vec::new() };
    let step = pts.windows(2).map(|w| w[1].limit_w - w[0].limit_w).fold(f64::INFINITY, f64::min);
    let mut out: Vec<f64> = if step.is_finite() && step >= 4.0 {
        [choice.limit_w - step / 2.0, choice.limit_w + step / 2.0]
            .into_iter()
            .map(f64::round)
            .filter(|&l| l >= min_w && l <= baseline_w)
            .filter(|&l| pts.iter().all(|p| (p.limit_w - l).abs() >= 1.0))
            .collect()
    } else {
        Vec::new()
    };
    out.push(baseline_w);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_sweep_runs_from_max_to_min() {
        assert_eq!(coarse_limits(100.0, 250.0, 6), vec![250.0, 220.0, 190.0, 160.0, 130.0, 100.0]);
        assert_eq!(coarse_limits(100.0, 100.0, 6), vec![100.0]);
    }

    #[test]
    fn refinement_straddles_the_choice() {
        let pts: Vec<ProfilePoint> = [(100.0, 0.5, 100.0), (150.0, 0.9, 140.0), (200.0, 1.0, 190.0)]
            .into_iter()
            .map(|(limit_w, throughput, power_w)| ProfilePoint { limit_w, throughput, power_w })
            .collect();
        let more = refine_limits(&pts, 200.0, Objective::MaxSlowdown { pct: 12.0 }, 100.0);
        assert_eq!(more.len(), 3);
        assert!(more[0] < more[1] && more.iter().all(|l| (100.0..=200.0).contains(l)));
        assert_eq!(more[2], 200.0, "the baseline is measured again");
    }
}
