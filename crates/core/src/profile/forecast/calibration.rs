//! Adaptive calibration of a band's coverage (adaptive conformal inference, Gibbs & Candès
//! 2021): each outcome that lands above the band raises the quantile it is drawn at, each one
//! below lowers it a little, so over time the share above the band approaches the target on this
//! series — whatever the error distribution's shape or drift.

/// Step size: how fast the quantile level follows misses.
const GAMMA: f64 = 0.005;
/// Spans of the errors (largest − median) per unit of `alpha` below 0: one miss there adds
/// `GAMMA` = 0.005 of a span.
const BEYOND_UNIT: f64 = 1.0;

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

    /// How far beyond the largest past error the band must reach, in spans of the errors
    /// (largest − median): misses that the largest error seen did not cover push it out (a
    /// rare, large error such as a level jumping needs this); 0 while a quantile suffices.
    pub fn beyond(&self) -> f64 {
        (-self.alpha).max(0.0) * BEYOND_UNIT
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
