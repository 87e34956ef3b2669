//! Profiling (`crate::profile`, `crate::deep_profile`), as the front doors call it.

use steward_core::profile::deep::{DeepProfile, DeepProfileRequest};
use steward_core::profile::{ModuleSpec, ProfileEvent, ProfileRequest, ProfileResponse, Thresholds};

use super::Steward;
use crate::ApiError;

impl Steward {
    /// The profile report (`POST /resources/profile`). Blocking (SQLite, model fitting).
    pub fn profile(&self, req: ProfileRequest) -> Result<ProfileResponse, ApiError> {
        self.shared.profiling.profile(req, self.snapshot(), || self.nodes())
    }

    pub fn modules(&self) -> Vec<ModuleSpec> {
        self.shared.profiling.modules()
    }

    /// Creates or replaces a module; it is matched from the next sample on.
    pub fn put_module(&self, spec: ModuleSpec) -> Result<ModuleSpec, ApiError> {
        self.shared.profiling.put_module(spec)
    }

    pub fn delete_module(&self, name: &str) -> Result<(), ApiError> {
        self.shared.profiling.delete_module(name)
    }

    /// Bottleneck findings starting and ending since `since_ms`, oldest first.
    pub fn profile_events(&self, since_ms: i64) -> Result<Vec<ProfileEvent>, ApiError> {
        self.shared.profiling.profile_events(since_ms)
    }

    pub fn thresholds(&self) -> Thresholds {
        self.shared.profiling.thresholds()
    }

    /// Starts a deep profile of `module`; it ends by itself after `duration_s`.
    pub fn start_deep_profile(&self, module: &str, req: DeepProfileRequest) -> Result<DeepProfile, ApiError> {
        self.shared.profiling.start_deep_profile(module, req)
    }

    /// The latest deep profile of `module`, running or finished; `None` when none was started.
    pub fn deep_profile(&self, module: &str) -> Result<Option<DeepProfile>, ApiError> {
        self.shared.profiling.deep_profile(module)
    }
}
