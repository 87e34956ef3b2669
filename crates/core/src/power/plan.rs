//! A power plan as kept and shown: per device the profile, the choice with its estimates, and
//! after applying, the measured outcome.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::power::{Choice, Measurement, Objective, Outcome, ProfilePoint};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PlanState {
    Planned,
    Applied,
    RolledBack,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DevicePlan {
    pub node: String,
    pub device: String,
    pub name: String,
    /// The limit in effect before the plan, the baseline of every estimate.
    pub baseline_limit_w: f64,
    pub choice: Choice,
    pub profile: Vec<ProfilePoint>,
    /// Measured at the baseline limit while profiling.
    pub before: Measurement,
    /// Measured after applying.
    pub outcome: Option<Outcome>,
}

/// A device the plan left alone, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Skipped {
    pub node: String,
    pub device: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PowerPlan {
    pub id: String,
    pub created_ms: i64,
    pub objective: Objective,
    pub devices: Vec<DevicePlan>,
    pub skipped: Vec<Skipped>,
    /// False when some device cannot meet the objective: the plan is the best it can do.
    pub reachable: bool,
    /// The plan in words (and the refusal, when unreachable).
    pub message: String,
    /// Estimated saving over all devices, weighted by their baseline power.
    pub est_saving_pct: f64,
    /// The largest estimated slowdown of any device.
    pub est_slowdown_pct: f64,
    pub state: PlanState,
    /// Measured over all devices after applying, weighted as the estimate.
    pub measured_saving_pct: Option<f64>,
    pub measured_slowdown_pct: Option<f64>,
}

impl PowerPlan {
    /// Fills the totals and the message from the devices.
    pub fn summarise(&mut self) {
        let weight: f64 = self.devices.iter().map(|d| d.before.power_w).sum();
        let weighted = |f: &dyn Fn(&DevicePlan) -> Option<f64>| -> Option<f64> {
            let mut sum = 0.0;
            for d in &self.devices {
                sum += f(d)? * d.before.power_w;
            }
            (weight > 0.0).then(|| sum / weight)
        };
        self.est_saving_pct = weighted(&|d| Some(d.choice.est_saving_pct)).unwrap_or(0.0);
        self.est_slowdown_pct = self.devices.iter().map(|d| d.choice.est_slowdown_pct).fold(0.0, f64::max);
        self.measured_saving_pct = weighted(&|d| d.outcome.map(|o| o.measured_saving_pct));
        self.measured_slowdown_pct = self
            .devices
            .iter()
            .map(|d| d.outcome.map(|o| o.measured_slowdown_pct))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().fold(f64::NEG_INFINITY, f64::max));
        self.reachable = self.devices.iter().all(|d| d.choice.reachable) && !self.devices.is_empty();
        self.message = if self.devices.is_empty() {
            "no device could be profiled: nothing to plan".to_string()
        } else if self.reachable {
            format!(
                "estimated {:.1} % less energy per unit of work, {:.1} % slower",
                self.est_saving_pct, self.est_slowdown_pct
            )
        } else {
            format!(
                "the objective cannot be met; the best this plan can do is {:.1} % less energy, {:.1} % slower",
                self.est_saving_pct, self.est_slowdown_pct
            )
        };
    }
}
