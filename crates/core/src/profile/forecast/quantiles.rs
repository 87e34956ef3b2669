//! Empirical quantiles over a sliding window of recent errors (kept sorted: O(window) per push,
//! which is cheap at the few thousand errors we keep).

use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct RollingQuantiles {
    capacity: usize,
    order: VecDeque<f64>,
    sorted: Vec<f64>,
}

impl RollingQuantiles {
    pub fn new(capacity: usize) -> Self {
        RollingQuantiles { capacity: capacity.max(1), order: VecDeque::new(), sorted: Vec::new() }
    }

    pub fn push(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        if self.order.len() == self.capacity {
            if let Some(old) = self.order.pop_front() {
                let i = self.sorted.partition_point(|x| *x < old);
                self.sorted.remove(i);
            }
        }
        self.order.push_back(v);
        let i = self.sorted.partition_point(|x| *x < v);
        self.sorted.insert(i, v);
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The `q`-quantile (0..=1), linearly interpolated; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        quantile_sorted(&self.sorted, q)
    }
}

pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn matches_sorting_the_window(xs in proptest::collection::vec(-1e6f64..1e6, 1..300), cap in 1usize..50, q in 0.0f64..1.0) {
            let mut r = RollingQuantiles::new(cap);
            for &x in &xs { r.push(x); }
            let mut tail: Vec<f64> = xs[xs.len().saturating_sub(cap)..].to_vec();
            tail.sort_by(f64::total_cmp);
            prop_assert_eq!(r.quantile(q), quantile_sorted(&tail, q));
        }
    }
}
