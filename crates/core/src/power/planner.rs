//! The choice per device from its measured profile: the power limit that meets a target
//! reduction with the least slowdown, the most saving within a slowdown, or Zeus's trade-off
//! cost η·E + (1−η)·P_max·T per unit of work (Zeus, NSDI '23). Savings and slowdowns are
//! relative to the baseline limit (the one in effect before the plan).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::power::curve::{ProfilePoint, at_limit, sorted};

/// What the plan optimises.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[ts(export)]
pub enum Objective {
    /// Use at least `pct` % less energy per unit of work, slowing down as little as possible.
    TargetReduction { pct: f64 },
    /// Save as much energy as possible without slowing down more than `pct` %.
    MaxSlowdown { pct: f64 },
    /// Zeus's trade-off: 1 cares only for energy, 0 only for time.
    Eta { eta: f64 },
}

/// The setting chosen for one device, with its estimates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Choice {
    pub limit_w: f64,
    /// Estimated energy saved per unit of work, % of the baseline's.
    pub est_saving_pct: f64,
    /// Estimated extra time per unit of work, % of the baseline's.
    pub est_slowdown_pct: f64,
    /// False when the objective cannot be met: this is the best the device can do.
    pub reachable: bool,
}

/// Candidate limits: every watt across the profiled range, plus the profiled limits themselves.
fn candidates(points: &[ProfilePoint]) -> Vec<f64> {
    let (Some(lo), Some(hi)) = (points.first(), points.last()) else { return Vec::new() };
    let mut out: Vec<f64> = points.iter().map(|p| p.limit_w).collect();
    let mut w = lo.limit_w.ceil();
    while w < hi.limit_w {
        out.push(w);
        w += 1.0;
    }
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

/// The choice for one device, or `None` with no usable profile (no point, or no progress at the
/// baseline).
pub fn choose(points: &[ProfilePoint], baseline_limit_w: f64, objective: Objective) -> Option<Choice> {
    let pts = sorted(points);
    let base = at_limit(&pts, baseline_limit_w)?;
    if base.throughput.is_nan() || base.throughput <= 0.0 {
        return None;
    }
    let max_power = pts.last()?.limit_w;
    let estimate = |limit_w: f64| -> Option<Choice> {
        let p = at_limit(&pts, limit_w)?;
        (p.throughput > 0.0).then(|| Choice {
            limit_w,
            est_saving_pct: 100.0 * (1.0 - p.energy_per_unit() / base.energy_per_unit()),
            est_slowdown_pct: 100.0 * (p.time_per_unit() / base.time_per_unit() - 1.0),
            reachable: true,
        })
    };
    let all: Vec<Choice> =
        candidates(&pts).into_iter().filter(|&l| l <= baseline_limit_w).filter_map(estimate).collect();
    let most_saving = |c: &&Choice| c.est_saving_pct;
    let best_saving = all.iter().max_by(|a, b| most_saving(a).total_cmp(&most_saving(b))).copied();
    match objective {
        Objective::TargetReduction { pct } => {
            let meets = all.iter().filter(|c| c.est_saving_pct >= pct);
            match meets
                .min_by(|a, b| a.est_slowdown_pct.total_cmp(&b.est_slowdown_pct).then(b.limit_w.total_cmp(&a.limit_w)))
            {
                Some(c) => Some(*c),
                None => best_saving.map(|c| Choice { reachable: false, ..c }),
            }
        }
        Objective::MaxSlowdown { pct } => {
            let within = all.iter().filter(|c| c.est_slowdown_pct <= pct);
            within.max_by(|a, b| a.est_saving_pct.total_cmp(&b.est_saving_pct)).copied()
        }
        Objective::Eta { eta } => {
            let cost = |c: &Choice| {
                let p = at_limit(&pts, c.limit_w).expect("a candidate lies on the curve");
                eta * p.energy_per_unit() + (1.0 - eta) * max_power * p.time_per_unit()
            };
            all.iter().min_by(|a, b| cost(a).total_cmp(&cost(b))).copied()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ResNet-50 on a V100 (Zeus trace, batch 256): limit, 1/epoch time, average power.
    fn resnet() -> Vec<ProfilePoint> {
        [(100.0, 6781.17, 98.38), (150.0, 4148.66, 144.59), (200.0, 3700.97, 184.94), (250.0, 3514.99, 220.25)]
            .into_iter()
            .map(|(l, t, p)| ProfilePoint { limit_w: l, throughput: 1000.0 / t, power_w: p })
            .collect()
    }

    #[test]
    fn target_reduction_takes_the_least_slowdown_that_meets_it() {
        let c = choose(&resnet(), 250.0, Objective::TargetReduction { pct: 15.0 }).unwrap();
        assert!(c.reachable && c.est_saving_pct >= 15.0, "{c:?}");
        // One watt more would miss the target.
        let above = choose(&resnet(), 250.0, Objective::MaxSlowdown { pct: c.est_slowdown_pct - 0.01 }).unwrap();
        assert!(above.est_saving_pct < 15.0 && above.limit_w > c.limit_w);
    }

    #[test]
    fn an_unreachable_target_answers_the_best_it_can_do() {
        let c = choose(&resnet(), 250.0, Objective::TargetReduction { pct: 60.0 }).unwrap();
        assert!(!c.reachable);
        let best = choose(&resnet(), 250.0, Objective::Eta { eta: 1.0 }).unwrap();
        assert_eq!(c.limit_w, best.limit_w);
    }

    #[test]
    fn eta_zero_keeps_full_speed_and_slowdown_caps_hold() {
        let fast = choose(&resnet(), 250.0, Objective::Eta { eta: 0.0 }).unwrap();
        assert_eq!(fast.limit_w, 250.0);
        let c = choose(&resnet(), 250.0, Objective::MaxSlowdown { pct: 5.0 }).unwrap();
        assert!(c.est_slowdown_pct <= 5.0 && c.est_saving_pct > 10.0, "{c:?}");
        assert!(choose(&[], 250.0, Objective::Eta { eta: 0.5 }).is_none());
    }
}
