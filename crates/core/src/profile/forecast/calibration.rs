//! Adaptive calibration of a band's coverage (adaptive conformal inference, Gibbs & Candès
//! 2021): each outcome that lands above the band raises the quantile it is drawn at, each one
//! below lowers it a little, so over time the share above the band approaches the target on this
//! series — whatever the error distribution's shape or drift.

/// Step size: how fast the quantile level follows misses.
const GAMMA: f64 = 0.005;

#[derive(Debug, Clone, Copy)]
pub struct AdaptiveLevel {
    /// Wanted share of outcomes above the band.
    target: f64,
    /// Current miss rate to draw the band at (the quantile is `1 − alpha`).
    alpha: f64,
}

impl AdaptiveLevel {
    pub fn new(target: f64) -> Self {
        AdaptiveLevel { target, alpha: target }
    }

    pub fn set_target(&mut self, target: f64) {
        self.target = target;
    }

    /// An outcome matured: it was above the band or not.
    pub fn update(&mut self, exceeded: bool) {
        self.alpha += GAMMA * (self.target - if exceeded { 1.0 } else { 0.0 });
        self.alpha = self.alpha.clamp(-1.0, 0.5);
    }

    /// The quantile (0..=1) of past errors to draw the band at.
    pub fn quantile(&self) -> f64 {
        1.0 - self.alpha.max(0.0)
    }
}

/// How far into the tail of past errors a size reaches when misses must be rare: a depth `d`
/// is the quantile exceeded with probability `(1 − from) · e^(−d)`, past the `from`-quantile
/// on an exponential tail fitted there (`quantiles::quantile_at_depth`). Calibrated like
/// `AdaptiveLevel`, but on that scale: a quantile level moved by a fixed step per miss went, at
/// a target of a few misses in a thousand, from well inside the errors to past the largest of
/// them in one or two misses, and the size then swung with the few largest errors; a depth
/// moves the chance of a miss by a fixed factor per miss. As with any such controller, misses
/// minus targets over a run equal the depth's change over `DEPTH_STEP`.
#[derive(Debug, Clone, Copy)]
pub struct TailDepth {
    target: f64,
    min_depth: f64,
    depth: f64,
}

/// Depth added per miss (and taken per unit of target met).
pub const DEPTH_STEP: f64 = 0.1;
/// The deepest a size reaches, in mean excesses: far past any error seen; it only bounds wind-up.
const MAX_DEPTH: f64 = 20.0;

impl TailDepth {
    /// Starts at the depth exceeded with probability `target` (`quantiles::quantile_at_depth`
    /// from `tail_from`); it never goes shallower than the median.
    pub fn new(target: f64, tail_from: f64) -> Self {
        let min_depth = ((1.0 - tail_from) / 0.5).ln();
        TailDepth { target, min_depth, depth: ((1.0 - tail_from) / target.max(1e-9)).ln().clamp(min_depth, MAX_DEPTH) }
    }

    pub fn set_target(&mut self, target: f64) {
        self.target = target;
    }

    /// An outcome matured: it was above the size or not.
    pub fn update(&mut self, exceeded: bool) {
        self.depth += DEPTH_STEP * (if exceeded { 1.0 } else { 0.0 } - self.target);
        self.depth = self.depth.clamp(self.min_depth, MAX_DEPTH);
    }

    pub fn depth(&self) -> f64 {
        self.depth
    }
}

/// How much a miss costs, in units of a whole recommendation's slack, for sizes chosen by
/// trading slack against the chance of a miss (`shift_cover`): calibrated the same way, each
/// miss raises the price by a factor, each outcome below lowers it a little.
#[derive(Debug, Clone, Copy)]
pub struct MissPrice {
    target: f64,
    ln_price: f64,
}

/// Step of ln(price) per unit of (miss − target).
const PRICE_GAIN: f64 = 0.1;
/// The price's range: a miss never costs less than the most slack one size can have (all of
/// it), else being short would be preferred to any over-provisioning; the top only bounds wind-up.
const LN_PRICE_RANGE: (f64, f64) = (0.0, 15.0);
/// Where the price starts: a miss costs ten recommendations' slack.
const LN_PRICE_START: f64 = std::f64::consts::LN_10;

impl MissPrice {
    pub fn new(target: f64) -> Self {
        MissPrice { target, ln_price: LN_PRICE_START }
    }

    pub fn set_target(&mut self, target: f64) {
        self.target = target;
    }

    /// An outcome matured: it was above the size or not.
    pub fn update(&mut self, exceeded: bool) {
        self.ln_price += PRICE_GAIN * (if exceeded { 1.0 } else { 0.0 } - self.target);
        self.ln_price = self.ln_price.clamp(LN_PRICE_RANGE.0, LN_PRICE_RANGE.1);
    }

    pub fn price(&self) -> f64 {
        self.ln_price.exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_raise_the_level_and_hits_lower_it() {
        let mut a = AdaptiveLevel::new(0.1);
        assert!((a.quantile() - 0.9).abs() < 1e-12);
        for _ in 0..10 {
            a.update(true);
        }
        let raised = a.quantile();
        assert!(raised > 0.9);
        for _ in 0..100 {
            a.update(false);
        }
        assert!(a.quantile() < raised);
        // Over a long run the miss share settles near the target.
        let mut a = AdaptiveLevel::new(0.1);
        let mut misses = 0;
        let mut rng = crate::profile::traces::Rng::new(1);
        for _ in 0..20_000 {
            // Outcomes uniform in [0, 1): above the band when above the current quantile.
            let miss = rng.uniform() > a.quantile();
            misses += usize::from(miss);
            a.update(miss);
        }
        assert!((misses as f64 / 20_000.0 - 0.1).abs() < 0.01, "{misses}");
    }

    #[test]
    fn misses_deepen_the_tail_and_only_misses_do() {
        // Must widen: misses beyond the target push the size deeper, by one step each.
        let mut d = TailDepth::new(0.01, 0.99);
        assert!(d.depth().abs() < 1e-12, "starts where the tail starts: 1 % from the 99th");
        for _ in 0..5 {
            d.update(true);
        }
        assert!((d.depth() - 5.0 * DEPTH_STEP * 0.99).abs() < 1e-9);
        // Must not: outcomes the baseline did not miss (target 0) and we did not either leave it
        // where it is; ones it missed (target > 0) and we did not bring it back in.
        let before = d.depth();
        d.set_target(0.0);
        for _ in 0..1000 {
            d.update(false);
        }
        assert_eq!(d.depth(), before);
        d.set_target(0.75);
        d.update(false);
        assert!(d.depth() < before);
        // Never shallower than the median of the errors, whatever the baseline misses.
        for _ in 0..10_000 {
            d.update(false);
        }
        assert!((d.depth() - (0.01f64 / 0.5).ln()).abs() < 1e-12);
    }

    #[test]
    fn misses_raise_the_price_and_it_never_falls_below_one() {
        let mut p = MissPrice::new(0.01);
        let start = p.price();
        p.update(true);
        assert!(p.price() > start);
        for _ in 0..100_000 {
            p.update(false);
        }
        assert_eq!(p.price(), 1.0);
        // Misses at the target share keep it where it is.
        let mut p = MissPrice::new(0.5);
        for miss in [true, false].repeat(50) {
            p.update(miss);
        }
        assert!((p.price() / start - 1.0).abs() < 1e-9);
    }
}
