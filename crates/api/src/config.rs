use std::path::PathBuf;

use steward_store::RetentionPolicy;
use steward_telemetry::SamplerConfig;

/// Everything the service needs to start; `Default` works with no configuration at all.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// SQLite file holding history; defaults to the platform data directory.
    pub db_path: PathBuf,
    pub sampler: SamplerConfig,
    pub retention: RetentionPolicy,
    /// How often rollups and retention run, in ms.
    pub maintenance_interval_ms: i64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            db_path: steward_store::default_path(),
            sampler: SamplerConfig::from_env(),
            retention: RetentionPolicy::default(),
            maintenance_interval_ms: 60_000,
        }
    }
}
