//! `[degradation]` in the config file: how often the engine checks, the memory budget and what
//! counts against it, the detector's thresholds, and the policies.

use serde::Deserialize;
use steward_core::degrade::policy::defaults;
use steward_core::degrade::{DegradationPolicy, DetectConfig};

#[derive(Debug, Clone, PartialEq)]
pub struct DegradationSettings {
    /// How often the engine fires policies and gives back one step (default 60 s).
    pub check_interval_ms: i64,
    /// How often constraints are judged (dwell times are measured at this grain).
    pub detect_interval_ms: i64,
    /// The memory budget; `None`: the node's total memory.
    pub memory_budget_bytes: Option<u64>,
    /// Profiler modules whose processes' RSS counts against the budget; empty: the node's used
    /// memory counts.
    pub budget_modules: Vec<String>,
    /// This node's power budget in watts: `[degradation] power_budget_w`, else this node's entry
    /// of `[allocation.power_budget]`; `None`: no power constraint is judged.
    pub power_budget_w: Option<f64>,
    pub detect: DetectConfig,
    /// In force until one is set through the API (which then keeps the whole list).
    pub policies: Vec<DegradationPolicy>,
}

impl Default for DegradationSettings {
    fn default() -> Self {
        DegradationSettings {
            check_interval_ms: 60_000,
            detect_interval_ms: 1_000,
            memory_budget_bytes: None,
            budget_modules: vec![],
            power_budget_w: None,
            detect: DetectConfig::default(),
            policies: defaults(),
        }
    }
}

impl DegradationSettings {
    /// Takes this node's entry of the scheduler's power budget where `[degradation]` sets none:
    /// one budget, judged by both.
    pub fn with_node_budget(mut self, budget: Option<&steward_core::alloc::PowerBudget>) -> Self {
        if self.power_budget_w.is_none() {
            self.power_budget_w = budget.and_then(|b| b.node_w.get(crate::cluster::LOCAL_NODE).copied());
        }
        self
    }
}

/// The file's section; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DegradationSection {
    check_interval_s: Option<f64>,
    memory_budget_bytes: Option<u64>,
    #[serde(default)]
    budget_modules: Vec<String>,
    power_budget_w: Option<f64>,
    power_over_pct: Option<f64>,
    memory_tiers_pct: Option<[f64; 4]>,
    cpu_saturated_pct: Option<f64>,
    hysteresis_pct: Option<f64>,
    dwell_s: Option<f64>,
    /// `[[degradation.policies]]`; absent: the defaults.
    policies: Option<Vec<DegradationPolicy>>,
}

impl DegradationSection {
    pub(crate) fn apply(self, to: &mut DegradationSettings) -> Result<(), String> {
        if let Some(s) = self.check_interval_s {
            if !(s.is_finite() && s >= 0.1) {
                return Err(format!("[degradation] check_interval_s must be at least 0.1, not {s}"));
            }
            to.check_interval_ms = (s * 1000.0) as i64;
            to.detect_interval_ms = to.detect_interval_ms.min(to.check_interval_ms);
        }
        if let Some(b) = self.memory_budget_bytes {
            if b == 0 {
                return Err("[degradation] memory_budget_bytes must be above 0".into());
            }
            to.memory_budget_bytes = Some(b);
        }
        to.budget_modules = self.budget_modules;
        if let Some(w) = self.power_budget_w {
            if !(w.is_finite() && w > 0.0) {
                return Err(format!("[degradation] power_budget_w must be a wattage above 0, not {w}"));
            }
            to.power_budget_w = Some(w);
        }
        let d = &mut to.detect;
        d.power_over_pct = self.power_over_pct.unwrap_or(d.power_over_pct);
        d.memory_tiers_pct = self.memory_tiers_pct.unwrap_or(d.memory_tiers_pct);
        d.cpu_saturated_pct = self.cpu_saturated_pct.unwrap_or(d.cpu_saturated_pct);
        d.hysteresis_pct = self.hysteresis_pct.unwrap_or(d.hysteresis_pct);
        if let Some(s) = self.dwell_s {
            d.dwell_ms = (s * 1000.0) as i64;
        }
        if let Some(p) = d.problems().first() {
            return Err(format!("[degradation] {p}"));
        }
        if let Some(policies) = self.policies {
            for (i, p) in policies.iter().enumerate() {
                if let Some(e) = p.problems(&[]).first() {
                    return Err(format!("[[degradation.policies]] #{} ({}): {e}", i + 1, p.name));
                }
                if policies[..i].iter().any(|q| q.name == p.name) {
                    return Err(format!("[[degradation.policies]] the name {:?} is used twice", p.name));
                }
            }
            to.policies = policies;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(toml_text: &str) -> Result<DegradationSettings, String> {
        let s: DegradationSection = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        let mut out = DegradationSettings::default();
        s.apply(&mut out)?;
        Ok(out)
    }

    #[test]
    fn the_section_sets_the_budget_and_policies_and_refuses_what_cannot_work() {
        let s = section(
            "check_interval_s = 2\nmemory_budget_bytes = 1000\nbudget_modules = [\"w\"]\ndwell_s = 0.5\n\
             [[policies]]\nname = \"shed\"\nwhen = { constraint = \"memory\", tier = 2 }\n\
             steps = [{ action = \"pause\", target = { criticality = \"sheddable\" } }]\n",
        )
        .unwrap();
        assert_eq!((s.check_interval_ms, s.detect_interval_ms, s.detect.dwell_ms), (2000, 1000, 500));
        assert_eq!((s.memory_budget_bytes, s.policies.len()), (Some(1000), 1));
        assert_eq!(section("").unwrap().policies.len(), defaults().len());
        let critical = "[[policies]]\nname = \"x\"\nwhen = { constraint = \"memory\" }\n\
                        steps = [{ action = \"pause\", target = { criticality = \"critical\" } }]\n";
        assert!(section(critical).unwrap_err().contains("never degraded"));
        assert!(section("memory_tiers_pct = [90, 80, 70, 95]").unwrap_err().contains("increasing"));
        assert!(section("check_interval_s = 0").unwrap_err().contains("check_interval_s"));
        assert!(section("colour = 1").is_err());
        assert_eq!(section("power_budget_w = 250").unwrap().power_budget_w, Some(250.0));
        assert!(section("power_budget_w = -1").unwrap_err().contains("power_budget_w"));
    }
}
