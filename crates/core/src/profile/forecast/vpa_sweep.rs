//! The baseline tuned to an exceedance: VPA's margin over its p90 (15 %) swept until it is
//! exceeded no more often than a given share, so slack can be compared at equal exceedance
//! rather than between two points that trade misses for slack differently.

use super::vpa::MARGIN;

/// The margins tried, in percent of the p90: 0 to 300 % by 0.5.
const MARGIN_STEPS: usize = 600;
const MARGIN_STEP_PCT: f64 = 0.5;

/// The baseline at one margin, scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Matched {
    pub margin_pct: f64,
    pub exceeded_pct: f64,
    pub slack_pct: f64,
}

/// The smallest swept margin at which the baseline (`(recommendation at VPA's margin, outcome)`
/// pairs) is exceeded at most `share` of the time, or the largest margin if none is.
pub fn match_exceedance(baseline: &[(f64, f64)], share: f64) -> Matched {
    let p90: Vec<(f64, f64)> = baseline.iter().map(|&(b, y)| (b / (1.0 + MARGIN), y)).collect();
    let mut last = score(&p90, 0.0);
    for k in 0..=MARGIN_STEPS {
        last = score(&p90, k as f64 * MARGIN_STEP_PCT);
        if last.exceeded_pct <= 100.0 * share + 1e-9 {
            break;
        }
    }
    last
}

fn score(p90: &[(f64, f64)], margin_pct: f64) -> Matched {
    let n = p90.len().max(1) as f64;
    let (mut exceeded, mut slack) = (0usize, 0.0);
    for &(p, y) in p90 {
        let rec = p * (1.0 + margin_pct / 100.0);
        if y > rec {
            exceeded += 1;
        } else if rec > 0.0 {
            slack += (rec - y) / rec;
        }
    }
    Matched { margin_pct, exceeded_pct: 100.0 * exceeded as f64 / n, slack_pct: 100.0 * slack / n }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_grows_until_the_share_is_met() {
        // p90 = 100 everywhere (115 at VPA's margin); outcomes 90..=129.
        let pairs: Vec<(f64, f64)> = (0..40).map(|i| (115.0, 90.0 + f64::from(i))).collect();
        let m = match_exceedance(&pairs, 0.1);
        // 10 % exceeded: 4 outcomes above, so the size is 125 (126..=129 above it).
        assert_eq!(m.margin_pct, 25.0);
        assert_eq!(m.exceeded_pct, 10.0);
        let none = match_exceedance(&pairs, 0.0);
        assert!(none.exceeded_pct == 0.0 && (29.0..=29.5).contains(&none.margin_pct), "{none:?}");
    }
}
