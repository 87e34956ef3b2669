//! Straggler detection and retry backoff: the two timing rules of fault tolerance.

/// When stragglers are looked for, and how long is too long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StragglerRule {
    /// Fraction of partitions that must be done before anyone is called a straggler.
    pub after_done: f64,
    /// A running partition older than this × the median partition time is a straggler.
    pub factor: f64,
    /// Never call something a straggler before it ran this long (ms): copies are not free.
    pub min_ms: i64,
}

impl Default for StragglerRule {
    fn default() -> Self {
        StragglerRule { after_done: 0.75, factor: 1.5, min_ms: 50 }
    }
}

impl StragglerRule {
    /// The running time beyond which a partition is a straggler, once enough are done;
    /// `None` while too few are done to say.
    pub fn threshold_ms(&self, done_durations_ms: &[i64], total: usize) -> Option<i64> {
        if total == 0
            || done_durations_ms.is_empty()
            || (done_durations_ms.len() as f64) < self.after_done * total as f64
        {
            return None;
        }
        Some(((median(done_durations_ms) as f64 * self.factor) as i64).max(self.min_ms))
    }
}

/// The median (lower middle for even counts).
pub fn median(values: &[i64]) -> i64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    v[(v.len() - 1) / 2]
}

/// Exponential backoff before retry number `failures` (1 = first retry), capped.
pub fn backoff_ms(failures: u32, base_ms: i64, max_ms: i64) -> i64 {
    if failures == 0 {
        return 0;
    }
    base_ms.saturating_mul(1i64 << (failures - 1).min(30)).min(max_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stragglers_are_judged_only_after_three_quarters() {
        let rule = StragglerRule::default();
        assert_eq!(rule.threshold_ms(&[100, 100], 4), None);
        assert_eq!(rule.threshold_ms(&[100, 120, 300], 4), Some(180));
        assert_eq!(rule.threshold_ms(&[10, 10, 10], 4), Some(50));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!([0, 1, 2, 3, 9].map(|f| backoff_ms(f, 200, 1000)), [0, 200, 400, 800, 1000]);
    }
}
