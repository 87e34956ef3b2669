//! Fair share by owner: resource-seconds used, decaying with a half-life, so an owner who used a
//! lot recently yields ties to one who did not.

use std::collections::HashMap;

pub(crate) struct FairShare {
    half_life_ms: i64,
    usage: HashMap<String, (f64, i64)>,
}

impl FairShare {
    pub fn new(half_life_ms: i64) -> FairShare {
        FairShare { half_life_ms: half_life_ms.max(1), usage: HashMap::new() }
    }

    fn decayed(&self, value: f64, since: i64, now: i64) -> f64 {
        value * 0.5f64.powf((now - since).max(0) as f64 / self.half_life_ms as f64)
    }

    pub fn charge(&mut self, owner: &str, amount: f64, now: i64) {
        let current = self.usage(owner, now);
        match self.usage.get_mut(owner) {
            Some(u) => *u = (current + amount, now),
            None => {
                self.usage.insert(owner.to_string(), (current + amount, now));
            }
        }
    }

    /// Decayed usage of `owner` at `now` (lower = more deserving).
    pub fn usage(&self, owner: &str, now: i64) -> f64 {
        self.usage.get(owner).map_or(0.0, |&(v, at)| self.decayed(v, at, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_halves_every_half_life() {
        let mut f = FairShare::new(1000);
        f.charge("ann", 8.0, 0);
        assert_eq!(f.usage("ann", 2000), 2.0);
        f.charge("ann", 1.0, 2000);
        assert_eq!(f.usage("ann", 3000), 1.5);
        assert_eq!(f.usage("bob", 3000), 0.0);
    }
}
