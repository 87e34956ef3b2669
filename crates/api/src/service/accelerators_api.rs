//! Accelerators (`crate::accelerators`), as the front doors call them.

use serde_json::Value;

use super::Steward;
use crate::accelerators::{self, AcceleratorsResponse};
use crate::allocation::AllocError;

impl Steward {
    /// `POST /resources/accelerators`: list, register, characterize, place; analyze, advise, map.
    pub async fn accelerators(&self, body: Value) -> Result<AcceleratorsResponse, AllocError> {
        accelerators::accelerators(&self.shared.accelerators, body).await
    }
}
