//! Accelerators (issue 16): the registry (NVML GPUs and their topology, wgpu adapters, and
//! accelerators registered by config, API or agent), characterization on demand, and placing a
//! pending allocation onto one. `POST /resources/accelerators` dispatches here by `operation`.

pub(crate) mod body;
mod health;
mod listing;
mod place;

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use steward_core::Reading;
use steward_core::accel::{AcceleratorSpec, Characterization, published_peak};
use steward_core::alloc::FieldError;
use steward_core::alloc::time::format_rfc3339;
use steward_telemetry::accel_bench::{AdapterBench, benchmark_adapters, child::benchmark_in_child};

pub use body::{
    AcceleratorList, AcceleratorOperation, AcceleratorsResponse, AcceleratorsResult, Characterized, HealthCheck,
    NodeAccelerators, Placement, Registered, RegisteredAccelerator, RegistrationSource,
};

use crate::clock::now_ms;
use crate::cluster::LOCAL_NODE;
use crate::service::Steward;
use crate::{AdapterProbe, ApiError, envelope};
use body::Parsed;

/// The subsystem's state in the service.
pub(crate) struct Accelerators {
    /// `[[accelerators]]` from the config file (read-only here).
    configured: Vec<AcceleratorSpec>,
    /// The last health check per (node, id), reused while fresh.
    health: Mutex<HashMap<(String, String), HealthCheck>>,
    /// One characterization at a time: two would measure each other.
    bench: Mutex<()>,
}

impl Accelerators {
    pub(crate) fn new(configured: Vec<AcceleratorSpec>) -> Accelerators {
        Accelerators { configured, health: Mutex::new(HashMap::new()), bench: Mutex::new(()) }
    }

    /// The accelerators this machine's scheduler node offers: configured and API-registered.
    pub(crate) fn local_specs(&self, stored: &[AcceleratorSpec]) -> Vec<AcceleratorSpec> {
        self.configured.iter().chain(stored).filter(|s| s.node == LOCAL_NODE).cloned().collect()
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::InvalidFields(vec![FieldError::new(field, message)])
}

impl Steward {
    /// `POST /resources/accelerators`: `list`, `register`, `characterize` or `place`.
    pub async fn accelerators(&self, body: Value) -> Result<AcceleratorsResponse, ApiError> {
        let (id, parsed) = body::parse(&body).map_err(ApiError::InvalidFields)?;
        let operation = parsed.operation();
        let result = match parsed {
            Parsed::List => AcceleratorsResult::List(self.accelerator_list().await?),
            Parsed::Register(spec) => AcceleratorsResult::Register(self.register_accelerator(*spec).await?),
            Parsed::Characterize { node, adapter } => {
                AcceleratorsResult::Characterize(self.characterize(node, adapter).await?)
            }
            Parsed::Place(p) => AcceleratorsResult::Place(self.place_on_accelerator(p).await?),
        };
        let now = now_ms();
        let request_id = id.unwrap_or_else(|| envelope::generated_id(now));
        Ok(AcceleratorsResponse { request_id, timestamp: format_rfc3339(now), operation, result })
    }

    /// Every node's accelerators, links, registrations (health-checked) and characterizations.
    pub async fn accelerator_list(&self) -> Result<AcceleratorList, ApiError> {
        let nodes = self.nodes();
        let (stored, measured) = self.with_store(|s| Ok((s.accelerators()?, s.characterizations()?))).await?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let a = &me.shared.accelerators;
            let health = |spec: &AcceleratorSpec| me.health_of(spec);
            AcceleratorList { nodes: listing::assemble(&nodes, &a.configured, &stored, &measured, &health) }
        })
        .await
        .map_err(|e| ApiError::Internal(format!("listing accelerators failed: {e}")))
    }

    /// The health of a registered accelerator: its check's last result while fresh, else run
    /// now (on this machine only).
    fn health_of(&self, spec: &AcceleratorSpec) -> Reading<HealthCheck> {
        let Some(argv) = &spec.health_check else {
            return Reading::unavailable("no health check registered");
        };
        if spec.node != LOCAL_NODE {
            return Reading::unavailable(format!(
                "health checks run on the control center's machine; {} is on node {}",
                spec.id, spec.node
            ));
        }
        let key = (spec.node.clone(), spec.id.clone());
        let cache = &self.shared.accelerators.health;
        let now = now_ms();
        if let Some(h) =
            cache.lock().ok().and_then(|c| c.get(&key).cloned()).filter(|h| now - h.checked_at_ms < health::FRESH_MS)
        {
            return Reading::from(h);
        }
        let h = health::run_check(argv, now);
        if let Ok(mut c) = cache.lock() {
            c.insert(key, h.clone());
        }
        Reading::from(h)
    }

    /// Registers (or replaces) an accelerator on a known node; this machine's scheduler offers
    /// it at once, so `accelerator_kind` allocations can ask for it.
    pub async fn register_accelerator(&self, spec: AcceleratorSpec) -> Result<Registered, ApiError> {
        if !self.nodes().iter().any(|n| n.id == spec.node) {
            return Err(ApiError::NotFound(format!("no node {:?} (see the cluster view for node ids)", spec.node)));
        }
        let a = &self.shared.accelerators;
        if a.configured.iter().any(|c| c.node == spec.node && c.id == spec.id) {
            return Err(invalid(
                "accelerator.id",
                format!("{:?} is defined in the config file; change it there", spec.id),
            ));
        }
        let s = spec.clone();
        let (replaced, stored) = self
            .with_store(move |store| {
                let replaced = store.put_accelerator(&s, now_ms())?;
                Ok((replaced, store.accelerators()?))
            })
            .await?;
        if let Ok(mut c) = a.health.lock() {
            c.remove(&(spec.node.clone(), spec.id.clone()));
        }
        if spec.node == LOCAL_NODE {
            let specs = a.local_specs(&stored);
            let me = self.clone();
            tokio::task::spawn_blocking(move || crate::allocation::put_local_accelerators(&me.shared, specs))
                .await
                .map_err(|e| ApiError::Internal(format!("updating the scheduler failed: {e}")))??;
        }
        let me = self.clone();
        let (spec, health) = tokio::task::spawn_blocking(move || {
            let health = me.health_of(&spec);
            (spec, health)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("health check failed: {e}")))?;
        Ok(Registered {
            accelerator: RegisteredAccelerator { spec, source: RegistrationSource::Api, health },
            replaced,
        })
    }

    /// Runs the benchmark on this machine's adapters (those named like `adapter`), keeps each
    /// result with its adapter, driver and date, and answers them.
    pub async fn characterize(&self, node: String, adapter: Option<String>) -> Result<Characterized, ApiError> {
        if node != LOCAL_NODE {
            return Err(if self.nodes().iter().any(|n| n.id == node) {
                invalid(
                    "node",
                    format!(
                        "characterization runs on the control center's machine (node \"local\"), not yet on {node:?}"
                    ),
                )
            } else {
                ApiError::NotFound(format!("no node {node:?}"))
            });
        }
        let me = self.clone();
        let benches = tokio::task::spawn_blocking(move || {
            let _one = me.shared.accelerators.bench.try_lock().map_err(|_| {
                ApiError::Conflict("a characterization is already running; try again when it has finished".into())
            })?;
            me.run_benchmark(adapter.as_deref())
        })
        .await
        .map_err(|e| ApiError::Internal(format!("the benchmark task failed: {e}")))??;
        let now = now_ms();
        let gpus = self.inventory().gpus;
        let characterizations: Vec<Characterization> = benches
            .into_iter()
            .map(|b| {
                let nvml = gpus.value().and_then(|g| listing::nvml_twin(&b.adapter, g));
                let published = published_peak(nvml.as_ref().map_or(&b.adapter.name, |g| &g.name));
                Characterization {
                    node: LOCAL_NODE.into(),
                    adapter: b.adapter,
                    measured_at_ms: now,
                    kernels: b.kernels,
                    nvml,
                    published,
                }
            })
            .collect();
        let keep = characterizations.clone();
        self.with_store(move |s| keep.iter().try_for_each(|c| s.put_characterization(c)).map_err(Into::into)).await?;
        Ok(Characterized { characterizations })
    }

    fn run_benchmark(&self, adapter: Option<&str>) -> Result<Vec<AdapterBench>, ApiError> {
        let reading = match &self.shared.config.adapter_probe {
            AdapterProbe::InProcess => benchmark_adapters(adapter),
            AdapterProbe::Child(exe) => benchmark_in_child(exe, adapter),
            AdapterProbe::Skip => {
                return Err(ApiError::Conflict(
                    "adapter enumeration is turned off here: nothing to characterize".into(),
                ));
            }
        };
        match reading {
            Reading::Available { value } => Ok(value),
            Reading::Unavailable { reason } if adapter.is_some() => Err(ApiError::NotFound(reason)),
            Reading::Unavailable { reason } => Err(ApiError::Conflict(reason)),
        }
    }
}
