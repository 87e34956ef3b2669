//! Error quantiles conditioned on the forecast's level: the errors of the `k` past forecasts
//! nearest in value to the one at hand. A quiet machine's next half hour is judged by what
//! followed other quiet moments, a busy one's by busy moments — one pooled distribution would
//! make bands too wide when idle and too narrow when busy.

use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct ConditionalErrors {
    capacity: usize,
    neighbours: usize,
    order: VecDeque<(f64, f64)>,
    /// `(forecast, error)` sorted by forecast.
    by_forecast: Vec<(f64, f64)>,
}

impl ConditionalErrors {
    pub fn new(capacity: usize, neighbours: usize) -> Self {
        ConditionalErrors {
            capacity: capacity.max(1),
            neighbours: neighbours.max(1),
            order: VecDeque::new(),
            by_forecast: Vec::new(),
        }
    }

    pub fn push(&mut self, forecast: f64, error: f64) {
        if !forecast.is_finite() || !error.is_finite() {
            return;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            let i = self.by_forecast.partition_point(|x| x.0 < old.0);
            // Several entries may share the forecast value: find this exact one.
            if let Some(j) = self.by_forecast[i..].iter().position(|x| *x == old) {
                self.by_forecast.remove(i + j);
            }
        }
        self.order.push_back((forecast, error));
        let i = self.by_forecast.partition_point(|x| x.0 < forecast);
        self.by_forecast.insert(i, (forecast, error));
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The errors of the `neighbours` past forecasts nearest to `forecast`, sorted.
    pub fn nearest(&self, forecast: f64) -> Vec<f64> {
        let mut e = self.nearest_unsorted(forecast);
        e.sort_unstable_by(f64::total_cmp);
        e
    }

    /// The same errors in no particular order (for `quantile_unsorted`: a few quantiles of
    /// them cost less than sorting them all).
    pub fn nearest_unsorted(&self, forecast: f64) -> Vec<f64> {
        let v = &self.by_forecast;
        let k = self.neighbours.min(v.len());
        // The k nearest of sorted values are a window [lo, lo + k): binary-search its start
        // (moving right while the value leaving is farther than the one entering; ties stay left).
        let mid = v.partition_point(|x| x.0 < forecast);
        let (mut lo, mut hi) = (mid.saturating_sub(k), mid.min(v.len() - k));
        while lo < hi {
            let m = (lo + hi) / 2;
            if forecast - v[m].0 > v[m + k].0 - forecast { lo = m + 1 } else { hi = m }
        }
        v[lo..lo + k].iter().map(|x| x.1).collect()
    }
}

/// The `q`-quantile (0..=1) of sorted values, linearly interpolated; `None` when empty.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

/// What `quantile_sorted` gives for the same values sorted, found by selection; reorders them.
pub fn quantile_unsorted(v: &mut [f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let (_, a, above) = v.select_nth_unstable_by(lo, f64::total_cmp);
    let a = *a;
    let b = if hi > lo { above.iter().copied().min_by(f64::total_cmp).unwrap_or(a) } else { a };
    Some(a + (b - a) * (pos - lo as f64))
}

/// The quantile of `v` exceeded with probability `(1 − from) · e^(−depth)`: below the
/// `from`-quantile (`depth ≤ 0`) the values' own; above it an exponential tail fitted there,
/// `start + depth · mean excess over start`, which is continuous in `depth` and reaches past
/// the largest value seen, where the empirical quantiles of a thousand errors have only a
/// handful of values to go by. Reorders `v`; `None` when empty.
pub fn quantile_at_depth(v: &mut [f64], from: f64, depth: f64) -> Option<f64> {
    if depth <= 0.0 {
        return quantile_unsorted(v, 1.0 - (1.0 - from) * (-depth).exp());
    }
    let start = quantile_unsorted(v, from)?;
    let (n, sum) = v.iter().filter(|&&x| x > start).fold((0usize, 0.0), |(n, s), &x| (n + 1, s + (x - start)));
    Some(start + if n == 0 { 0.0 } else { depth * sum / n as f64 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The neighbours are the k nearest forecasts of the last `cap` pushed, by brute force.
        #[test]
        fn nearest_matches_brute_force(xs in proptest::collection::vec((0u8..50, -100i32..100), 1..200), cap in 1usize..60, k in 1usize..20, at in 0u8..50) {
            let mut c = ConditionalErrors::new(cap, k);
            for &(f, e) in &xs { c.push(f64::from(f), f64::from(e)); }
            let tail = &xs[xs.len().saturating_sub(cap)..];
            let got = c.nearest(f64::from(at));
            prop_assert_eq!(got.len(), k.min(tail.len()));
            // Every chosen error's forecast distance is ≤ every unchosen one's: compare the
            // multiset of distances instead of the (tie-dependent) errors.
            let mut d: Vec<u8> = tail.iter().map(|(f, _)| f.abs_diff(at)).collect();
            d.sort();
            let kth = d[got.len() - 1];
            let closer = tail.iter().filter(|(f, _)| f.abs_diff(at) < kth).count();
            prop_assert!(closer <= got.len());
        }
    }

    proptest! {
        /// Selection gives the sorted quantile exactly.
        #[test]
        fn unsorted_quantile_matches_sorted(mut xs in proptest::collection::vec(-1000i32..1000, 1..300), q in 0.0f64..=1.0) {
            let mut v: Vec<f64> = xs.drain(..).map(f64::from).collect();
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            prop_assert_eq!(quantile_unsorted(&mut v, q), quantile_sorted(&sorted, q));
        }
    }

    #[test]
    fn depth_reaches_past_the_largest_value_smoothly() {
        // 1..=1000: the 99th percentile is 990.01, the mean excess over it (991..=1000) 5.49.
        let mut v: Vec<f64> = (1..=1000).map(f64::from).collect();
        let q = |v: &mut [f64], d: f64| quantile_at_depth(v, 0.99, d).unwrap();
        assert_eq!(q(&mut v, 0.0), quantile_unsorted(&mut v, 0.99).unwrap());
        assert!((q(&mut v, -(0.5f64 / 0.01).ln()) - 500.5).abs() < 1e-9, "the median");
        assert!((q(&mut v, 1e-9) - q(&mut v, 0.0)).abs() < 1e-6, "continuous at the tail's start");
        let (a, b, c) = (q(&mut v, 1.0), q(&mut v, 2.0), q(&mut v, 3.0));
        assert!((b - a - 5.49).abs() < 1e-9 && (c - b - 5.49).abs() < 1e-9, "one mean excess per unit: {a} {b} {c}");
        assert!(q(&mut v, 3.0) > 1000.0, "past the largest value");
        assert_eq!(quantile_at_depth(&mut [], 0.99, 1.0), None);
    }

    #[test]
    fn busy_and_quiet_errors_stay_apart() {
        let mut c = ConditionalErrors::new(100, 10);
        for i in 0..50 {
            c.push(5.0, if i % 10 == 0 { 80.0 } else { 0.5 });
            c.push(70.0, 2.0);
        }
        assert!(c.nearest(6.0).contains(&80.0) || c.nearest(6.0).iter().all(|e| *e < 1.0));
        assert!(c.nearest(69.0).iter().all(|e| *e == 2.0));
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0], 0.5), Some(2.0));
    }
}
