//! What each node has: `list` (health-checked registrations and the latest characterizations
//! beside the inventory), `register` (this machine's scheduler offers it at once) and
//! `characterize` (the benchmark on this machine's adapters, kept per adapter).

use std::sync::Arc;

use steward_core::Reading;
use steward_core::accel::{AcceleratorSpec, Characterization, published_peak};
use steward_core::alloc::FieldError;
use steward_core::cluster::NodeView;
use steward_telemetry::accel_bench::{AdapterBench, benchmark_adapters, child::benchmark_in_child};

use super::body::{AcceleratorList, Characterized, HealthCheck, Registered, RegisteredAccelerator, RegistrationSource};
use super::{Accelerators, health, listing, local_specs};
use crate::clock::now_ms;
use crate::cluster::LOCAL_NODE;
use crate::{AdapterProbe, ApiError};

pub(super) fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::InvalidFields(vec![FieldError::new(field, message)])
}

impl Accelerators {
    fn nodes(&self) -> Vec<NodeView> {
        self.cluster.all_views(self.inventory.clone(), self.live.latest())
    }

    /// Every node's accelerators, links, registrations (health-checked) and characterizations.
    pub(super) async fn list(self: &Arc<Self>) -> Result<AcceleratorList, ApiError> {
        let nodes = self.nodes();
        let (stored, measured) = self.store.run(|s| Ok((s.accelerators()?, s.characterizations()?))).await?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let health = |spec: &AcceleratorSpec| me.health_of(spec);
            AcceleratorList { nodes: listing::assemble(&nodes, &me.configured, &stored, &measured, &health) }
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
        let now = now_ms();
        if let Some(h) = self
            .health
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
            .filter(|h| now - h.checked_at_ms < health::FRESH_MS)
        {
            return Reading::from(h);
        }
        let h = health::run_check(argv, now);
        if let Ok(mut c) = self.health.lock() {
            c.insert(key, h.clone());
        }
        Reading::from(h)
    }

    /// Registers (or replaces) an accelerator on a known node; this machine's scheduler offers
    /// it at once, so `accelerator_kind` allocations can ask for it.
    pub(super) async fn register(self: &Arc<Self>, spec: AcceleratorSpec) -> Result<Registered, ApiError> {
        if !self.nodes().iter().any(|n| n.id == spec.node) {
            return Err(ApiError::NotFound(format!("no node {:?} (see the cluster view for node ids)", spec.node)));
        }
        if self.configured.iter().any(|c| c.node == spec.node && c.id == spec.id) {
            return Err(invalid(
                "accelerator.id",
                format!("{:?} is defined in the config file; change it there", spec.id),
            ));
        }
        let s = spec.clone();
        let (replaced, stored) = self
            .store
            .run(move |store| {
                let replaced = store.put_accelerator(&s, now_ms())?;
                Ok((replaced, store.accelerators()?))
            })
            .await?;
        if let Ok(mut c) = self.health.lock() {
            c.remove(&(spec.node.clone(), spec.id.clone()));
        }
        if spec.node == LOCAL_NODE {
            let mut inventory = self.inventory.clone();
            inventory.accelerators = local_specs(&self.configured, &stored);
            let me = self.clone();
            tokio::task::spawn_blocking(move || {
                crate::allocation::put_local_node(&me.allocations, &inventory, &me.sampler)
            })
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
    pub(super) async fn characterize(
        self: &Arc<Self>,
        node: String,
        adapter: Option<String>,
    ) -> Result<Characterized, ApiError> {
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
            let _one = me.bench.try_lock().map_err(|_| {
                ApiError::Conflict("a characterization is already running; try again when it has finished".into())
            })?;
            me.run_benchmark(adapter.as_deref())
        })
        .await
        .map_err(|e| ApiError::Internal(format!("the benchmark task failed: {e}")))??;
        let now = now_ms();
        let gpus = &self.inventory.gpus;
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
        self.store.run(move |s| keep.iter().try_for_each(|c| s.put_characterization(c)).map_err(Into::into)).await?;
        Ok(Characterized { characterizations })
    }

    fn run_benchmark(&self, adapter: Option<&str>) -> Result<Vec<AdapterBench>, ApiError> {
        let reading = match &self.adapter_probe {
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
