use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ApiError;

use steward_core::accel::AcceleratorSpec;
use steward_core::alloc::{FieldError, ResourceAmount};
use steward_core::dispatch::output::{MAX_OUTPUT_BYTES, MAX_OUTPUT_LINES};
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
    /// Refit kept forecasts in a background thread (`profile::kept`); off where a test refits.
    pub refit_forecasts: bool,
    /// Most each owner may hold at once (`[allocation.quotas]`); owners not listed are unlimited.
    pub quotas: BTreeMap<String, ResourceAmount>,
    /// The engine cluster operations go to (`[backend]`): Steward's own by default.
    pub backend: crate::backend::BackendSettings,
    /// `[degradation]`: the check interval, memory budget, thresholds and policies.
    pub degradation: crate::degradation::DegradationSettings,
    /// `[allocation.power_budget]`: requests wait rather than push predicted power over it.
    pub power_budget: Option<steward_core::alloc::PowerBudget>,
    /// `[energy]`: the CPU model's TDP, tariff and carbon intensity.
    pub energy: crate::EnergySettings,
    /// Accelerators no driver reports (`[[accelerators]]`): TPUs, FPGAs, NPUs, other GPUs.
    pub accelerators: Vec<AcceleratorSpec>,
}

/// How the inventory enumerates graphics adapters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterProbe {
    /// In this process: simple, but the drivers stay loaded (tests, one-shot tools).
    InProcess,
    /// In a child running this executable, which must call
    /// `steward_telemetry::adapter_probe::serve_adapter_probe_if_asked` first thing in `main`.
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
            refit_forecasts: true,
            quotas: BTreeMap::new(),
            backend: Default::default(),
            degradation: Default::default(),
            power_budget: None,
            energy: Default::default(),
            accelerators: Vec::new(),
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
    #[serde(default)]
    dispatch: Option<DispatchSection>,
    #[serde(default)]
    backend: Option<crate::backend::BackendSection>,
    #[serde(default)]
    degradation: Option<crate::degradation::DegradationSection>,
    #[serde(default)]
    telemetry: Option<TelemetrySection>,
    #[serde(default)]
    energy: Option<crate::EnergySettings>,
    /// `[[accelerators]]`: read as values, then checked field by field like an API registration.
    #[serde(default)]
    accelerators: Vec<toml::Value>,
}

/// `[telemetry]`: where this machine's collectors read from.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TelemetrySection {
    /// `procfs` (Linux's /proc and /sys: the most detail) or `portable` (sysinfo).
    backend: Option<String>,
}

/// Every `[[accelerators]]` entry read and checked; all problems at once, named by entry.
fn read_accelerators(entries: &[toml::Value]) -> Result<Vec<AcceleratorSpec>, String> {
    let mut specs = Vec::new();
    let mut problems = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let prefix = format!("accelerators[{i}]");
        let value = serde_json::to_value(entry).map_err(|e| format!("{prefix}: {e}"))?;
        match crate::request_body::from_value::<AcceleratorSpec>(&prefix, &value) {
            Ok(spec) => {
                problems.extend(spec.validate(&prefix));
                if specs.iter().any(|s: &AcceleratorSpec| s.node == spec.node && s.id == spec.id) {
                    problems.push(FieldError::new(format!("{prefix}.id"), format!("{:?} is listed twice", spec.id)));
                }
                specs.push(spec);
            }
            Err(errors) => problems.extend(errors),
        }
    }
    if problems.is_empty() {
        Ok(specs)
    } else {
        Err(problems.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))
    }
}

/// `[dispatch]`: how the executor talks to nodes; every field optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchSection {
    /// Link speed between nodes, for costing a dataset's move (default 1000: 1 Gbit/s).
    link_mbit_per_s: Option<f64>,
    /// Start orders per call to one node (1 = one call per task).
    max_batch: Option<usize>,
    /// After a restart, how long a node may take to reconnect before its work is retried.
    reattach_grace_s: Option<f64>,
    /// Ended executions kept in memory (older ones are read from the database).
    kept_finished: Option<usize>,
    /// Output kept per partition as its result when a task sets no `output` limits; past
    /// either, the output is cut (and said so) and spilled whole to a file.
    max_output_lines: Option<u64>,
    max_output_bytes: Option<u64>,
    /// Largest spill file of one partition's output.
    max_spill_bytes: Option<u64>,
}

impl DispatchSection {
    fn apply(&self, to: &mut crate::dispatch::DispatchSettings) -> Result<(), String> {
        if let Some(mbit) = self.link_mbit_per_s {
            if !(mbit.is_finite() && mbit > 0.0) {
                return Err(format!("[dispatch] link_mbit_per_s must be a positive number of Mbit/s, not {mbit}"));
            }
            to.link_bytes_per_s = mbit * 1e6 / 8.0;
        }
        if let Some(n) = self.max_batch {
            if n == 0 {
                return Err("[dispatch] max_batch must be at least 1".into());
            }
            to.max_batch = n;
        }
        if let Some(s) = self.reattach_grace_s {
            if !(s.is_finite() && s >= 0.0) {
                return Err(format!("[dispatch] reattach_grace_s must be a number of seconds ≥ 0, not {s}"));
            }
            to.reattach_grace_ms = (s * 1000.0) as i64;
        }
        if let Some(n) = self.kept_finished {
            to.kept_finished = n;
        }
        for (name, value, max) in [
            ("max_output_lines", self.max_output_lines, MAX_OUTPUT_LINES),
            ("max_output_bytes", self.max_output_bytes, MAX_OUTPUT_BYTES),
        ] {
            if let Some(n) = value.filter(|n| *n == 0 || *n > max) {
                return Err(format!("[dispatch] {name} must be 1–{max}, not {n}"));
            }
        }
        to.engine.max_output_lines = self.max_output_lines.unwrap_or(to.engine.max_output_lines);
        to.engine.max_output_bytes = self.max_output_bytes.unwrap_or(to.engine.max_output_bytes);
        if let Some(n) = self.max_spill_bytes {
            to.max_spill_bytes = n;
        }
        Ok(())
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AllocationSection {
    /// `[allocation.quotas.<owner>]` with `gpus`, `cores`, `memory_bytes`; an absent one is
    /// unlimited.
    #[serde(default)]
    quotas: BTreeMap<String, QuotaEntry>,
    /// Budgets with the linear power model they are predicted by (every model field required:
    /// a prediction states its assumptions).
    power_budget: Option<PowerBudgetSection>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PowerBudgetSection {
    /// Watts per node id (`local` for this machine, an agent's address).
    #[serde(default)]
    nodes: BTreeMap<String, f64>,
    cluster_w: Option<f64>,
    node_idle_w: f64,
    gpu_w: f64,
    core_w: f64,
}

impl PowerBudgetSection {
    fn budget(self) -> Result<steward_core::alloc::PowerBudget, String> {
        let watts = [self.node_idle_w, self.gpu_w, self.core_w]
            .into_iter()
            .chain(self.cluster_w)
            .chain(self.nodes.values().copied());
        if watts.into_iter().any(|w| !w.is_finite() || w < 0.0) {
            return Err("[allocation.power_budget]: every wattage must be a number ≥ 0".into());
        }
        Ok(steward_core::alloc::PowerBudget {
            node_w: self.nodes,
            cluster_w: self.cluster_w,
            node_idle_w: self.node_idle_w,
            gpu_w: self.gpu_w,
            core_w: self.core_w,
        })
    }
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
            self.power_budget = a
                .power_budget
                .map(PowerBudgetSection::budget)
                .transpose()
                .map_err(|e| ApiError::InvalidInput(format!("config file {}: {e}", path.display())))?;
        }
        if let Some(backend) = file.telemetry.and_then(|t| t.backend) {
            self.sampler.backend = steward_telemetry::Backend::parse(&backend)
                .map_err(|e| ApiError::InvalidInput(format!("config file {}: [telemetry] {e}", path.display())))?;
        }
        self.accelerators = read_accelerators(&file.accelerators)
            .map_err(|e| ApiError::InvalidInput(format!("config file {}: {e}", path.display())))?;
        if let Some(d) = file.dispatch {
            d.apply(&mut self.dispatch)
                .map_err(|e| ApiError::InvalidInput(format!("config file {}: {e}", path.display())))?;
        }
        if let Some(b) = file.backend {
            self.backend =
                b.settings().map_err(|e| ApiError::InvalidInput(format!("config file {}: {e}", path.display())))?;
        }
        if let Some(d) = file.degradation {
            d.apply(&mut self.degradation)
                .map_err(|e| ApiError::InvalidInput(format!("config file {}: {e}", path.display())))?;
        }
        if let Some(e) = file.energy {
            if let Some(p) = e.problem() {
                return Err(ApiError::InvalidInput(format!("config file {}: {p}", path.display())));
            }
            self.sampler.cpu_tdp_w = e.cpu_tdp_w;
            self.energy = e;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_power_budget_states_its_model_and_refuses_negative_watts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.toml");
        let section = "[allocation.power_budget]\ncluster_w = 3000\nnode_idle_w = 100\ngpu_w = 300\ncore_w = 10\n[allocation.power_budget.nodes]\nlocal = 800\n";
        std::fs::write(&path, section).unwrap();
        let mut config = ApiConfig::default();
        config.apply_file(&path).unwrap();
        let b = config.power_budget.unwrap();
        assert_eq!((b.node_w["local"], b.cluster_w, b.gpu_w), (800.0, Some(3000.0), 300.0));
        std::fs::write(&path, section.replace("gpu_w = 300", "gpu_w = -1")).unwrap();
        assert!(ApiConfig::default().apply_file(&path).unwrap_err().to_string().contains("≥ 0"));
        std::fs::write(&path, section.replace("gpu_w = 300\n", "")).unwrap();
        assert!(ApiConfig::default().apply_file(&path).unwrap_err().to_string().contains("gpu_w"));
    }

    #[test]
    fn accelerators_are_read_and_every_wrong_field_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.toml");
        std::fs::write(
            &path,
            "[[accelerators]]\nid = \"tpu0\"\nkind = \"tpu\"\nmodel = \"TPU v5e\"\nmemory_bytes = 17179869184\n\
             precisions = [\"bf16\", \"int8\"]\npeak_tflops = { bf16 = 197.0 }\nhealth_check = [\"true\"]\n",
        )
        .unwrap();
        let mut config = ApiConfig::default();
        config.apply_file(&path).unwrap();
        assert_eq!(config.accelerators.len(), 1);
        assert_eq!(config.accelerators[0].node, "local");
        assert_eq!(config.accelerators[0].peak_tflops[&steward_core::accel::SpecPrecision::Bf16], 197.0);
        std::fs::write(
            &path,
            "[[accelerators]]\nid = \"tpu0\"\nkind = \"tpu\"\nmodel = \"x\"\nmemory_bytes = 0\nprecisions = [\"bf16\"]\n\
             [[accelerators]]\nid = \"f\"\nkind = \"asic\"\nmodel = \"x\"\nmemory_bytes = 1\nprecisions = [\"int8\"]\n",
        )
        .unwrap();
        let e = ApiConfig::default().apply_file(&path).unwrap_err().to_string();
        assert!(e.contains("accelerators[0].memory_bytes: must be more than 0"), "{e}");
        assert!(e.contains("accelerators[1].kind"), "{e}");
    }

    #[test]
    fn quotas_come_from_the_allocation_section_and_absent_limits_are_unlimited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.toml");
        std::fs::write(
            &path,
            "[allocation.quotas.ann]\ngpus = 2\n\n[allocation.quotas.bob]\ncores = 16\nmemory_bytes = 1024\n",
        )
        .unwrap();
        let mut config = ApiConfig::default();
        config.apply_file(&path).unwrap();
        assert_eq!(config.quotas["ann"], ResourceAmount { gpus: 2, cores: u32::MAX, memory_bytes: u64::MAX });
        assert_eq!(config.quotas["bob"], ResourceAmount { gpus: u32::MAX, cores: 16, memory_bytes: 1024 });
        std::fs::write(&path, "[allocation.quotas.ann]\ngpu = 2\n").unwrap();
        let err = ApiConfig::default().apply_file(&path).unwrap_err().to_string();
        assert!(err.contains("gpu"), "{err}");
    }

    #[test]
    fn the_dispatch_section_sets_link_speed_and_batching_and_refuses_nonsense() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.toml");
        std::fs::write(
            &path,
            "[dispatch]\nlink_mbit_per_s = 10000\nmax_batch = 64\nreattach_grace_s = 2.5\nmax_output_lines = 50\n\
             max_output_bytes = 4096\n",
        )
        .unwrap();
        let mut config = ApiConfig::default();
        config.apply_file(&path).unwrap();
        assert_eq!(config.dispatch.link_bytes_per_s, 1.25e9);
        assert_eq!((config.dispatch.max_batch, config.dispatch.reattach_grace_ms), (64, 2500));
        assert_eq!((config.dispatch.engine.max_output_lines, config.dispatch.engine.max_output_bytes), (50, 4096));
        assert_eq!(config.dispatch.kept_finished, crate::DispatchSettings::default().kept_finished, "untouched");
        for bad in [
            "link_mbit_per_s = 0",
            "link_mbit_per_s = -5",
            "max_batch = 0",
            "reattach_grace_s = -1",
            "link_speed = 10",
            "max_output_lines = 0",
            "max_output_bytes = 1000000000000",
        ] {
            std::fs::write(&path, format!("[dispatch]\n{bad}\n")).unwrap();
            let err = ApiConfig::default().apply_file(&path).unwrap_err().to_string();
            let field = bad.split(' ').next().unwrap();
            assert!(err.contains(field), "{bad}: {err}");
        }
    }

    #[test]
    fn the_telemetry_section_picks_the_backend_and_names_a_wrong_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.toml");
        let mut config = ApiConfig::default();
        std::fs::write(&path, "[telemetry]\nbackend = \"portable\"\n").unwrap();
        config.apply_file(&path).unwrap();
        assert_eq!(config.sampler.backend, steward_telemetry::Backend::Portable);
        std::fs::write(&path, "[telemetry]\nbackend = \"procfs\"\n").unwrap();
        config.apply_file(&path).unwrap();
        assert_eq!(config.sampler.backend, steward_telemetry::Backend::Procfs);
        std::fs::write(&path, "[telemetry]\nbackend = \"wmi\"\n").unwrap();
        let e = config.apply_file(&path).unwrap_err().to_string();
        assert!(e.contains("\"procfs\" or \"portable\""), "{e}");
    }
}
