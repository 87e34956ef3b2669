//! `[energy]` in the config file: the CPU's TDP for the power model, the tariff and the carbon
//! intensity (each a constant or 24 values, one per local hour).

use serde::Deserialize;
use steward_core::energy::schedule::HourlyRate;

/// Keys other parts of Steward add to `[energy]` are left to them, not refused here.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct EnergySettings {
    /// Watts; for nodes without a CPU power meter (RAPL).
    #[serde(default)]
    pub cpu_tdp_w: Option<u32>,
    /// Price per kWh (in the user's currency).
    #[serde(default)]
    pub tariff: Option<HourlyRate>,
    /// Grams CO₂e per kWh.
    #[serde(default)]
    pub carbon_intensity: Option<HourlyRate>,
    /// The currency's name or symbol, shown beside costs.
    #[serde(default)]
    pub currency: Option<String>,
}

impl EnergySettings {
    /// What is wrong with the section, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.cpu_tdp_w == Some(0) {
            return Some("[energy] cpu_tdp_w must be more than 0 W".into());
        }
        let rates = [("tariff", &self.tariff), ("carbon_intensity", &self.carbon_intensity)];
        rates.into_iter().find_map(|(k, r)| r.as_ref()?.problem().map(|p| format!("[energy] {k} {p}")))
    }
}
