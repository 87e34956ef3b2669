//! The `[profile]` section of the config file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::module::ModuleSpec;
use super::thresholds::Thresholds;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileConfig {
    pub thresholds: Thresholds,
    /// How much recent sampling the bottleneck rules look at, ms.
    pub window_ms: i64,
    /// Modules defined in the file; they are saved to the database at start (the file wins).
    pub modules: Vec<ModuleSpec>,
    /// How many days of 1-minute history forecasts are fitted on (at most; all there is when
    /// less is stored). The 1-minute rollups are kept at least this long.
    pub history_days: u32,
    /// How often the upper recommendation may be exceeded, in percent of the time: it is
    /// calibrated on each series' own outcomes to this share.
    pub upper_exceedance_pct: f64,
    /// `upper_exceedance_pct` for the named modules' forecasts (`[profile.module_upper_exceedance_pct]`).
    pub module_upper_exceedance_pct: BTreeMap<String, f64>,
}

impl ProfileConfig {
    /// Longest `history_days` accepted: the 1-minute table grows by 1,440 rows a day per series.
    pub const MAX_HISTORY_DAYS: u32 = 90;

    pub fn history_ms(&self) -> i64 {
        i64::from(self.history_days) * 86_400_000
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(1..=Self::MAX_HISTORY_DAYS).contains(&self.history_days) {
            return Err(format!(
                "[profile] history_days must be between 1 and {}, got {}",
                Self::MAX_HISTORY_DAYS,
                self.history_days
            ));
        }
        let shares = std::iter::once(("upper_exceedance_pct".to_string(), self.upper_exceedance_pct)).chain(
            self.module_upper_exceedance_pct.iter().map(|(m, v)| (format!("module_upper_exceedance_pct.{m}"), *v)),
        );
        for (key, pct) in shares {
            if !(pct > 0.0 && pct <= 50.0) {
                return Err(format!("[profile] {key} must be above 0 and at most 50, got {pct}"));
            }
        }
        Ok(())
    }

    /// The share (not percent) of the time `module`'s upper recommendations (the system's
    /// with `None`) may be exceeded.
    pub fn upper_exceedance(&self, module: Option<&str>) -> f64 {
        module.and_then(|m| self.module_upper_exceedance_pct.get(m)).copied().unwrap_or(self.upper_exceedance_pct)
            / 100.0
    }
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig {
            thresholds: Thresholds::default(),
            window_ms: 30_000,
            modules: vec![],
            history_days: 28,
            upper_exceedance_pct: 2.0,
            module_upper_exceedance_pct: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_days_default_to_four_weeks_and_must_be_sensible() {
        let c: ProfileConfig = serde_json::from_str("{}").unwrap();
        assert_eq!((c.history_days, c.history_ms()), (28, 28 * 86_400_000));
        assert!(c.validate().is_ok());
        let zero: ProfileConfig = serde_json::from_str(r#"{"history_days": 0}"#).unwrap();
        assert!(zero.validate().unwrap_err().contains("history_days must be between 1 and 90"));
        assert!(ProfileConfig { history_days: 91, ..c.clone() }.validate().is_err());
        assert_eq!(c.upper_exceedance_pct, 2.0);
        for bad in [0.0, -1.0, 50.5, f64::NAN] {
            let e = ProfileConfig { upper_exceedance_pct: bad, ..c.clone() }.validate().unwrap_err();
            assert!(e.contains("upper_exceedance_pct"), "{e}");
        }
    }

    #[test]
    fn a_module_may_set_its_own_upper_exceedance() {
        let c: ProfileConfig =
            serde_json::from_str(r#"{"upper_exceedance_pct": 3, "module_upper_exceedance_pct": {"train": 0.5}}"#)
                .unwrap();
        assert!(c.validate().is_ok());
        assert_eq!(c.upper_exceedance(None), 0.03);
        assert_eq!(c.upper_exceedance(Some("web")), 0.03);
        assert_eq!(c.upper_exceedance(Some("train")), 0.005);
        let bad: ProfileConfig = serde_json::from_str(r#"{"module_upper_exceedance_pct": {"train": 0}}"#).unwrap();
        assert!(bad.validate().unwrap_err().contains("module_upper_exceedance_pct.train"));
    }
}
