//! The CPU power model for machines without a CPU power meter:
//! `P = idle + (TDP − idle) × utilization`, with idle a fixed share of TDP.
//!
//! TDP comes from the configuration (`[energy] cpu_tdp_w`) or a small table of common CPUs
//! (vendor figures); a CPU in neither has no model, and its power is unavailable with the reason.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Idle draw as a share of TDP. SPECpower results put active-idle at roughly 20–40 % of full
/// load for servers; a third is the middle of that range, and an assumption the UI states.
pub const IDLE_SHARE_OF_TDP: f64 = 0.3;

/// Vendor TDPs (W) by a substring of `/proc/cpuinfo`'s model name. Small on purpose: the
/// configuration is the way to be exact.
const TDP_TABLE: &[(&str, f64)] = &[
    ("i7-8650U", 15.0),
    ("i7-1185G7", 28.0),
    ("i9-13900K", 125.0),
    ("i7-12700K", 125.0),
    ("Ryzen 9 5950X", 105.0),
    ("Ryzen 9 7950X", 170.0),
    ("Ryzen 7 5800X", 105.0),
    ("EPYC 7742", 225.0),
    ("EPYC 7763", 280.0),
    ("EPYC 9654", 360.0),
    ("Platinum 8380", 270.0),
    ("Gold 6248", 150.0),
];

/// A modelled CPU: its TDP, idle draw, and where the TDP came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CpuModel {
    pub tdp_w: f64,
    pub idle_w: f64,
    /// `configured` or `table (<model>)`.
    pub tdp_from: String,
}

impl CpuModel {
    /// The model for `cpu_model_name`, from `configured_tdp_w` first, then the table; the reason
    /// there is none otherwise.
    pub fn for_cpu(cpu_model_name: &str, configured_tdp_w: Option<f64>) -> Result<CpuModel, String> {
        let (tdp_w, tdp_from) = match configured_tdp_w {
            Some(w) if w.is_finite() && w > 0.0 => (w, "configured".to_string()),
            Some(w) => return Err(format!("[energy] cpu_tdp_w must be a positive number of watts, not {w}")),
            None => TDP_TABLE
                .iter()
                .find(|(name, _)| cpu_model_name.contains(name))
                .map(|(name, w)| (*w, format!("table ({name})")))
                .ok_or_else(|| {
                    format!("no TDP known for CPU \"{cpu_model_name}\"; set [energy] cpu_tdp_w to model its power")
                })?,
        };
        Ok(CpuModel { tdp_w, idle_w: tdp_w * IDLE_SHARE_OF_TDP, tdp_from })
    }

    /// Modelled package power at `util_pct` (0–100) busy.
    pub fn power_w(&self, util_pct: f64) -> f64 {
        self.idle_w + (self.tdp_w - self.idle_w) * (util_pct / 100.0).clamp(0.0, 1.0)
    }

    /// The assumptions, in words, for the figure's provenance.
    pub fn assumptions(&self) -> String {
        format!(
            "TDP {} W ({}), idle {:.0} % of TDP, linear in CPU utilization",
            self.tdp_w,
            self.tdp_from,
            IDLE_SHARE_OF_TDP * 100.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_tdp_wins_then_the_table_then_a_reason() {
        let m = CpuModel::for_cpu("Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz", None).unwrap();
        assert_eq!((m.tdp_w, m.tdp_from.as_str()), (15.0, "table (i7-8650U)"));
        assert_eq!(m.power_w(0.0), 4.5);
        assert_eq!(m.power_w(100.0), 15.0);
        assert_eq!(m.power_w(50.0), 9.75);
        let c = CpuModel::for_cpu("Intel(R) Core(TM) i7-8650U", Some(25.0)).unwrap();
        assert_eq!((c.tdp_w, c.tdp_from.as_str()), (25.0, "configured"));
        let none = CpuModel::for_cpu("QEMU Virtual CPU version 2.5+", None).unwrap_err();
        assert!(none.contains("cpu_tdp_w"), "{none}");
        assert!(CpuModel::for_cpu("x", Some(-3.0)).is_err());
    }
}
