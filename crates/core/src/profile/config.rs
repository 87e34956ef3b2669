//! The `[profile]` section of the config file.

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
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig { thresholds: Thresholds::default(), window_ms: 30_000, modules: vec![] }
    }
}
