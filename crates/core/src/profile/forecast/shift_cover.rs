//! Sizing where level shifts happen: a shift's risk is per unit of time and does not depend on
//! where the series sits, but covering it does. From a low level, reaching up to a high
//! destination is most of the recommendation (slack); from a high one it costs little. So each
//! origin takes the size with the least expected `slack + price · misses`, where the outcome is
//! the forecast plus one of the past errors at a similar level, unless (with the shift rate)
//! the level shifts to one of the destinations seen. One price for the whole series, calibrated
//! on its outcomes (`calibration::MissPrice`), makes those choices spend misses where covering
//! is most expensive: the size reaches less far from low levels and further from high ones than
//! a cover of the same destinations from everywhere.

/// The levels past shifts settled at, as the engine sees them at the horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftRisk {
    /// Share of outcomes that were level shifts.
    pub rate: f64,
    /// The size that covers a stay at each destination (its level, the season of the horizon
    /// added, plus the error quantile there) and the chance a shift lands there, ascending by
    /// size; the chances add up to 1.
    pub covers: Vec<(f64, f64)>,
}

impl ShiftRisk {
    /// The size for a forecast of `at` with the least `slack + price · P(miss)`. Without a shift
    /// the outcome is one of `total` equally likely values of which `tail` holds the largest,
    /// ascending (the others are at most `tail[0]`); the candidates are those values and the
    /// covers above `tail[0]` (the smallest on ties). `None` when `tail` is empty.
    pub fn size(&self, at: f64, tail: &[f64], total: usize, price: f64) -> Option<f64> {
        let floor = *tail.first()?;
        let no_shift = (1.0 - self.rate) / total.max(1) as f64;
        let (mut i, mut j) = (0, self.covers.partition_point(|c| c.0 <= floor));
        // The chance that a shift lands above the size.
        let mut shift_above: f64 = self.covers[j..].iter().map(|c| c.1).sum();
        let mut best = (f64::INFINITY, floor);
        // Merge both ascending lists; at each candidate, everything after it is a miss.
        while let Some(size) = match (tail.get(i), self.covers.get(j)) {
            (Some(&a), Some(&(b, _))) => Some(a.min(b)),
            (a, b) => a.copied().or(b.map(|c| c.0)),
        } {
            while tail.get(i).is_some_and(|&v| v <= size) {
                i += 1;
            }
            while let Some(&(_, chance)) = self.covers.get(j).filter(|c| c.0 <= size) {
                shift_above -= chance;
                j += 1;
            }
            let misses = no_shift * (tail.len() - i) as f64 + self.rate * shift_above.max(0.0);
            let slack = if size > 0.0 { (size - at).max(0.0) / size } else { 0.0 };
            let cost = slack + price * misses;
            if cost < best.0 {
                best = (cost, size);
            }
        }
        Some(best.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Destinations evenly spread over 10..=85, each covered 10 % above it; shifts change 5 % of
    /// outcomes.
    fn spread() -> ShiftRisk {
        ShiftRisk { rate: 0.05, covers: (0..16).map(|i| ((10.0 + 5.0 * i as f64) * 1.1, 1.0 / 16.0)).collect() }
    }

    /// 100 outcomes spread ±10 % around `at`: the tail from the median up.
    fn around(at: f64) -> Vec<f64> {
        (50..100).map(|i| at * (0.9 + 0.2 * i as f64 / 99.0)).collect()
    }

    #[test]
    fn without_shifts_the_size_is_an_outcome_quantile() {
        let none = ShiftRisk { rate: 0.0, covers: vec![] };
        let tail = around(50.0);
        let cheap = none.size(50.0, &tail, 100, 0.05).unwrap();
        let dear = none.size(50.0, &tail, 100, 1000.0).unwrap();
        assert!(tail.contains(&cheap) && cheap < dear, "{cheap} vs {dear}");
        assert_eq!(dear, *tail.last().unwrap(), "a miss dearer than any slack: the largest outcome");
        assert_eq!(none.size(50.0, &[], 100, 1.0), None);
    }

    #[test]
    fn a_high_price_covers_every_destination() {
        let risk = spread();
        assert_eq!(risk.size(12.0, &around(12.0), 100, 1e6), Some(85.0 * 1.1));
        // Above every destination already: nothing to add.
        assert_eq!(risk.size(95.0, &around(95.0), 100, 1e6), Some(around(95.0)[49]));
    }

    #[test]
    fn the_size_reaches_further_from_high_levels_than_from_low_ones() {
        // Shifts land at 20, 30 or 90: from 80, reaching 90 costs a little slack; from 15, most
        // of the recommendation.
        let risk = ShiftRisk { rate: 0.05, covers: [22.0, 33.0, 90.0].map(|c| (c, 1.0 / 3.0)).to_vec() };
        let price = 10.0;
        let low = risk.size(15.0, &around(15.0), 100, price).unwrap();
        let high = risk.size(80.0, &around(80.0), 100, price).unwrap();
        assert!(low < 33.0, "{low}");
        assert_eq!(high, 90.0);
        // At a price ten times higher, every level covers it.
        assert_eq!(risk.size(15.0, &around(15.0), 100, 10.0 * price), Some(90.0));
    }
}
