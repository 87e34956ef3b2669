//! The brownout-style controller: hold memory headroom at a target by moving one notch per
//! check, with a deadband so it rests instead of hunting.

/// What the controller does this check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Shed,
    Restore,
    Hold,
}

/// `headroom_pct` is the free share of the budget; shed below the band, restore above it.
pub fn decide(headroom_pct: f64, target_pct: f64, deadband_pct: f64) -> Move {
    if headroom_pct < target_pct - deadband_pct {
        Move::Shed
    } else if headroom_pct > target_pct + deadband_pct {
        Move::Restore
    } else {
        Move::Hold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rests_inside_the_band() {
        assert_eq!(decide(10.0, 20.0, 5.0), Move::Shed);
        assert_eq!(decide(18.0, 20.0, 5.0), Move::Hold);
        assert_eq!(decide(26.0, 20.0, 5.0), Move::Restore);
    }
}
