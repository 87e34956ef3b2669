//! The time–energy profile of one device: throughput and power measured at a few power limits,
//! and the curve between them (piecewise linear: a measured curve is not smooth enough for more).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What was measured at one power limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProfilePoint {
    pub limit_w: f64,
    /// Units of work per second (progress, items, or the clock × utilization proxy).
    pub throughput: f64,
    pub power_w: f64,
}

impl ProfilePoint {
    /// Joules per unit of work; infinite when nothing progressed.
    pub fn energy_per_unit(&self) -> f64 {
        if self.throughput > 0.0 { self.power_w / self.throughput } else { f64::INFINITY }
    }

    /// Seconds per unit of work.
    pub fn time_per_unit(&self) -> f64 {
        if self.throughput > 0.0 { 1.0 / self.throughput } else { f64::INFINITY }
    }
}

/// Points sorted by limit, one per limit (a limit measured twice keeps the mean).
pub fn sorted(points: &[ProfilePoint]) -> Vec<ProfilePoint> {
    let mut v: Vec<ProfilePoint> = points.iter().copied().filter(|p| p.limit_w.is_finite()).collect();
    v.sort_by(|a, b| a.limit_w.total_cmp(&b.limit_w));
    let mut out: Vec<(ProfilePoint, f64)> = Vec::with_capacity(v.len());
    for p in v {
        match out.last_mut() {
            Some((q, n)) if (q.limit_w - p.limit_w).abs() < 1e-9 => {
                q.throughput = (q.throughput * *n + p.throughput) / (*n + 1.0);
                q.power_w = (q.power_w * *n + p.power_w) / (*n + 1.0);
                *n += 1.0;
            }
            _ => out.push((p, 1.0)),
        }
    }
    out.into_iter().map(|(p, _)| p).collect()
}

/// The curve at `limit_w` by linear interpolation between sorted points, clamped at the ends.
pub fn at_limit(points: &[ProfilePoint], limit_w: f64) -> Option<ProfilePoint> {
    let first = points.first()?;
    let last = points.last()?;
    if limit_w <= first.limit_w {
        return Some(ProfilePoint { limit_w, ..*first });
    }
    if limit_w >= last.limit_w {
        return Some(ProfilePoint { limit_w, ..*last });
    }
    let hi = points.iter().position(|p| p.limit_w >= limit_w)?;
    let (a, b) = (points[hi - 1], points[hi]);
    let t = (limit_w - a.limit_w) / (b.limit_w - a.limit_w);
    Some(ProfilePoint {
        limit_w,
        throughput: a.throughput + t * (b.throughput - a.throughput),
        power_w: a.power_w + t * (b.power_w - a.power_w),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(limit_w: f64, throughput: f64, power_w: f64) -> ProfilePoint {
        ProfilePoint { limit_w, throughput, power_w }
    }

    #[test]
    fn interpolates_between_and_clamps_outside() {
        let pts = sorted(&[p(200.0, 1.0, 190.0), p(100.0, 0.5, 100.0), p(200.0, 1.0, 170.0)]);
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[1].power_w, 180.0);
        let mid = at_limit(&pts, 150.0).unwrap();
        assert!((mid.throughput - 0.75).abs() < 1e-12 && (mid.power_w - 140.0).abs() < 1e-12);
        assert_eq!(at_limit(&pts, 50.0).unwrap().throughput, 0.5);
        assert_eq!(at_limit(&pts, 300.0).unwrap().power_w, 180.0);
        assert!(at_limit(&[], 1.0).is_none());
    }
}
