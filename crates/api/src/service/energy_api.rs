//! Energy (`crate::energy`, the monitor; `crate::power`, the power manager and planner), as the
//! front doors call it.

use serde_json::Value;

use super::Steward;
use crate::{ApiError, EnergyResponse};

impl Steward {
    /// `POST /resources/energy`: `monitor`, `plan`, `apply`, `rollback`, `journal`.
    pub async fn energy(&self, body: Value) -> Result<EnergyResponse, ApiError> {
        self.shared.power.energy(body).await
    }

    /// The exported report (SVG): every node's power by source over the last hour and today's
    /// energy by node and source, labelled with provenance.
    pub fn energy_report(&self) -> Result<String, ApiError> {
        self.shared.meter.energy_report()
    }

    /// Writes the report to `dir/steward-energy-report.svg` and answers the path.
    pub fn save_energy_report(&self, dir: &std::path::Path) -> Result<std::path::PathBuf, ApiError> {
        self.shared.meter.save_energy_report(dir)
    }
}
