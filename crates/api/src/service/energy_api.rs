//! Energy (`crate::power`: the power manager and planner), as the front doors call it.

use serde_json::Value;

use super::Steward;
use crate::{ApiError, EnergyResponse};

impl Steward {
    /// `POST /resources/energy`: `plan`, `apply`, `rollback`, `journal`.
    pub async fn energy(&self, body: Value) -> Result<EnergyResponse, ApiError> {
        self.shared.power.energy(body).await
    }
}
