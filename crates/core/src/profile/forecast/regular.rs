//! History buckets → a regular series the forecaster can walk: missing steps are interpolated,
//! and only the stretch after the last long gap is kept (a machine that was off is not "idle").

/// Values at `step_ms` from the first point to the last, interpolated across gaps of at most
/// `max_gap_ms`; returns the start time and the values. Points must be sorted by time.
pub fn regularize(points: &[(i64, f64)], step_ms: i64, max_gap_ms: i64) -> (i64, Vec<f64>) {
    let pts: Vec<(i64, f64)> = points.iter().copied().filter(|(_, v)| v.is_finite()).collect();
    let start = pts.windows(2).rposition(|w| w[1].0 - w[0].0 > max_gap_ms).map_or(0, |i| i + 1);
    let pts = &pts[start..];
    let Some(&(t0, _)) = pts.first() else { return (0, vec![]) };
    let mut out = Vec::new();
    let mut j = 0;
    let last = pts[pts.len() - 1].0;
    let mut t = t0;
    while t <= last {
        while j + 1 < pts.len() && pts[j + 1].0 <= t {
            j += 1;
        }
        let (ta, va) = pts[j];
        let v = match pts.get(j + 1) {
            Some(&(tb, vb)) if tb > ta && t > ta => va + (vb - va) * (t - ta) as f64 / (tb - ta) as f64,
            _ => va,
        };
        out.push(v);
        t += step_ms;
    }
    (t0, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_short_gaps_and_drops_before_long_ones() {
        let (t0, v) = regularize(&[(0, 1.0), (60, 2.0), (180, 4.0)], 60, 300);
        assert_eq!((t0, v), (0, vec![1.0, 2.0, 3.0, 4.0]));
        let (t0, v) = regularize(&[(0, 9.0), (10_000, 1.0), (10_060, 2.0)], 60, 300);
        assert_eq!((t0, v), (10_000, vec![1.0, 2.0]));
        assert!(regularize(&[], 60, 300).1.is_empty());
    }
}
