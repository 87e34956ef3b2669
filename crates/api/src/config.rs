use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ApiError;

use steward_core::alloc::ResourceAmount;
use steward_core::profile::ProfileConfig;
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
    /// Bottleneck thresholds, the rules' window and configured modules.
    pub profile: ProfileConfig,
    pub adapter_probe: AdapterProbe,
    pub dispatch: crate::dispatch::DispatchSettings,
    /// Most each owner may hold at once (`[allocation.quotas]`); owners not listed are unlimited.
    pub quotas: BTreeMap<String, ResourceAmount>,
}

/// How the inventory enumerates graphics adapters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterProbe {
    /// In this process: simple, but the drivers stay loaded (tests, one-shot tools).
    InProcess,
    /// In a child running this executable, which must call
    /// `steward_telemetry::adapter_probe::serve_probe_if_asked` first thing in `main`.
    Child(PathBuf),
    Skip,
}

impl AdapterProbe {
    /// A child of the running executable, or in-process when its path is unknown.
    pub fn this_executable() -> Self {
        std::env::current_exe().map(AdapterProbe::Child).unwrap_or(AdapterProbe::InProcess)
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            db_path: steward_store::default_path(),
            sampler: SamplerConfig::from_env(),
            retention: RetentionPolicy::default(),
            maintenance_interval_ms: 60_000,
            profile: ProfileConfig::default(),
            adapter_probe: AdapterProbe::InProcess,
            dispatch: Default::default(),
            quotas: BTreeMap::new(),
        }
    }
}

/// The config file (TOML). Sections other issues add are ignored here, not refused.
#[derive(Debug, Default, serde::Deserialize)]
struct ConfigFile {
    #[serde(default)]
    profile: Option<ProfileConfig>,
    #[serde(default)]
    allocation: Option<AllocationSection>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AllocationSection {
    /// `[allocation.quotas.<owner>]` with `gpus`, `cores`, `memory_bytes`; an absent one is
    /// unlimited.
    #[serde(default)]
    quotas: BTreeMap<String, QuotaEntry>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaEntry {
    gpus: Option<u32>,
    cores: Option<u32>,
    memory_bytes: Option<u64>,
}

impl QuotaEntry {
    fn amount(&self) -> ResourceAmount {
        ResourceAmount {
            gpus: self.gpus.unwrap_or(u32::MAX),
            cores: self.cores.unwrap_or(u32::MAX),
            memory_bytes: self.memory_bytes.unwrap_or(u64::MAX),
        }
    }
}

impl ApiConfig {
    /// Applies the settings of the TOML file at `path` on top of these.
    pub fn apply_file(&mut self, path: &std::path::Path) -> Result<(), ApiError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ApiError::InvalidInput(format!("cannot read the config file {}: {e}", path.display())))?;
        let file: ConfigFile = toml::from_str(&text)
            .map_err(|e| ApiError::InvalidInput(format!("config file {}: {e}", path.display())))?;
        if let Some(p) = file.profile {
            self.profile = p;
        }
        if let Some(a) = file.allocation {
            self.quotas = a.quotas.iter().map(|(owner, q)| (owner.clone(), q.amount())).collect();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_come_from_the_allocation_section_and_absent_limits_are_unlimited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.toml");
        std::fs::write(&path, "[allocation.quotas.ann]\ngpus = 2\n\n[allocation.quotas.bob]\ncores = 16\nmemory_bytes = 1024\n").unwrap();
        let mut config = ApiConfig::default();
        config.apply_file(&path).unwrap();
        assert_eq!(config.quotas["ann"], ResourceAmount { gpus: 2, cores: u32::MAX, memory_bytes: u64::MAX });
        assert_eq!(config.quotas["bob"], ResourceAmount { gpus: u32::MAX, cores: 16, memory_bytes: 1024 });
        std::fs::write(&path, "[allocation.quotas.ann]\ngpu = 2\n").unwrap();
        let err = ApiConfig::default().apply_file(&path).unwrap_err().to_string();
        assert!(err.contains("gpu"), "{err}");
    }
}
