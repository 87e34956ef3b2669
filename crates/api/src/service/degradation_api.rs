//! Graceful degradation (`crate::degradation`), as the front doors call it.

use serde_json::Value;
use steward_core::degrade::{DegradationEvent, DegradationPolicy, ModuleOverride};

use super::Steward;
use crate::ApiError;
use crate::allocation::AllocError;
use crate::degradation::{DegradationResponse, DegradationStatus, OverrideRequest};

impl Steward {
    /// `POST /resources/degradation`.
    pub fn degradation(&self, body: Value) -> Result<DegradationResponse, AllocError> {
        self.shared.degradation.request(body)
    }

    pub fn degradation_status(&self) -> Result<DegradationStatus, ApiError> {
        self.shared.degradation.status()
    }

    /// Adds or replaces (by name) a policy; refused per field when it would touch a critical
    /// module or cannot work.
    pub fn set_policy(&self, p: DegradationPolicy) -> Result<Vec<DegradationPolicy>, AllocError> {
        self.shared.degradation.set_policy(p)
    }

    pub fn remove_policy(&self, name: &str) -> Result<Vec<DegradationPolicy>, AllocError> {
        self.shared.degradation.remove_policy(name)
    }

    /// Forces a level, pins features or exempts a module, at once (not at the next check).
    pub fn set_override(&self, req: OverrideRequest, by: &str) -> Result<ModuleOverride, AllocError> {
        self.shared.degradation.set_override(req, by)
    }

    pub fn release_override(&self, module: &str, by: &str) -> Result<(), AllocError> {
        self.shared.degradation.release_override(module, by)
    }

    pub fn degradation_history(&self, since_ms: i64, limit: usize) -> Result<Vec<DegradationEvent>, ApiError> {
        self.shared.degradation.history(since_ms, limit)
    }
}
