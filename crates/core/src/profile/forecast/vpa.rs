//! The baseline: a decaying histogram recommender as the Kubernetes Vertical Pod Autoscaler
//! uses — exponential buckets (5% wide), sample weights that double every half-life, and a
//! recommendation of the weighted 90th percentile plus a 15% safety margin.

use std::collections::BTreeMap;

pub const BUCKET_GROWTH: f64 = 1.05;
pub const HALF_LIFE_MS: i64 = 24 * 3_600_000;
pub const PERCENTILE: f64 = 0.9;
pub const MARGIN: f64 = 0.15;

#[derive(Debug, Clone, Default)]
pub struct DecayingHistogram {
    /// Bucket index → weight; index `i` covers `[g^i, g^(i+1))`, `i32::MIN` holds zeros.
    buckets: BTreeMap<i32, f64>,
    total: f64,
    /// Weights are relative to this time; moved forward before they overflow.
    ref_ms: Option<i64>,
}

impl DecayingHistogram {
    pub fn add(&mut self, ts_ms: i64, value: f64) {
        if !value.is_finite() {
            return;
        }
        let r = *self.ref_ms.get_or_insert(ts_ms);
        let mut w = 2f64.powf((ts_ms - r) as f64 / HALF_LIFE_MS as f64);
        if w > 1e100 {
            // Rescale everything to a new reference time; ratios stay the same.
            for b in self.buckets.values_mut() {
                *b /= w;
            }
            self.total /= w;
            self.ref_ms = Some(ts_ms);
            w = 1.0;
        }
        let idx = if value <= 0.0 { i32::MIN } else { (value.ln() / BUCKET_GROWTH.ln()).floor() as i32 };
        *self.buckets.entry(idx).or_insert(0.0) += w;
        self.total += w;
    }

    /// The weighted `p`-percentile as the end of its bucket (VPA's convention).
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.total <= 0.0 {
            return None;
        }
        let target = p * self.total;
        let mut acc = 0.0;
        for (&i, &w) in &self.buckets {
            acc += w;
            if acc >= target {
                return Some(if i == i32::MIN { 0.0 } else { BUCKET_GROWTH.powi(i + 1) });
            }
        }
        self.buckets.keys().next_back().map(|&i| if i == i32::MIN { 0.0 } else { BUCKET_GROWTH.powi(i + 1) })
    }

    pub fn recommendation(&self) -> Option<f64> {
        self.percentile(PERCENTILE).map(|v| v * (1.0 + MARGIN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p90_of_uniform_samples_within_a_bucket() {
        let mut h = DecayingHistogram::default();
        for i in 1..=100 {
            h.add(0, i as f64);
        }
        let p = h.percentile(0.9).unwrap();
        assert!((90.0..=90.0 * BUCKET_GROWTH * BUCKET_GROWTH).contains(&p), "{p}");
        assert!((h.recommendation().unwrap() / p - 1.15).abs() < 1e-9);
    }

    #[test]
    fn old_samples_fade() {
        let mut h = DecayingHistogram::default();
        for i in 0..100 {
            h.add(i, 100.0);
        }
        // A week later a lower level has taken over the percentile.
        for i in 0..100 {
            h.add(7 * 24 * 3_600_000 + i, 10.0);
        }
        assert!(h.percentile(0.9).unwrap() < 11.0);
    }
}
