//! The brownout-style controllers: hold memory headroom, or a module's latency, at a target by
//! moving one notch per check, with a deadband so they rest instead of hunting.

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

/// `latency_ms` against its target: shed above the band (`deadband_pct` of the target), restore
/// below it.
pub fn latency_move(latency_ms: f64, target_ms: f64, deadband_pct: f64) -> Move {
    let band = target_ms * deadband_pct / 100.0;
    if latency_ms > target_ms + band {
        Move::Shed
    } else if latency_ms < target_ms - band {
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
        assert_eq!(latency_move(250.0, 200.0, 10.0), Move::Shed);
        assert_eq!(latency_move(210.0, 200.0, 10.0), Move::Hold);
        assert_eq!(latency_move(150.0, 200.0, 10.0), Move::Restore);
    }
}
