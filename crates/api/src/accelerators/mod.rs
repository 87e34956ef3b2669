//! Accelerators (issue 16), behind `POST /resources/accelerators`; `operation` picks one of
//! - what each node has: `list` (NVML GPUs and their topology, wgpu adapters, and accelerators
//!   registered by config, API or agent, health-checked), `register`, `characterize` (the WGSL
//!   benchmark on this machine's adapters, kept per adapter) — `inventory.rs`;
//! - `place`: a pending allocation dragged onto a node's GPU — `place.rs`;
//! - workloads against the devices: `analyze`, `advise`, `map` (and with `place: true`, submit
//!   the mapping) — `workloads.rs`.
//!
//! Devices for the workload operations are the allocation engine's GPU slots at the moment of
//! the request; their figures come from profiles supplied with the request, else this
//! machine's stored characterizations (measured beats published), else the datasheets.

pub(crate) mod body;
mod health;
mod inventory;
mod listing;
mod place;
mod workloads;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use steward_core::Inventory;
use steward_core::accel::AcceleratorSpec;
use steward_core::alloc::time::format_rfc3339;
use steward_telemetry::SamplerConfig;

pub use body::{
    AcceleratorList, AcceleratorOperation, AcceleratorsResponse, AcceleratorsResult, AdviseResult, AnalyzeResult,
    Characterized, HealthCheck, MapResult, MapTaskRequest, NodeAccelerators, PlaceAllocation, PlacedTask, Registered,
    RegisteredAccelerator, RegistrationSource,
};

use crate::allocation::{AllocError, Allocations};
use crate::clock::now_ms;
use crate::cluster::{Cluster, LOCAL_NODE};
use crate::live_feed::LiveFeed;
use crate::store_handle::StoreHandle;
use crate::{AdapterProbe, envelope};
use body::{Parsed, Request};

/// The subsystem: its own state and the handles it uses.
pub(crate) struct Accelerators {
    /// `[[accelerators]]` from the config file (read-only here).
    configured: Vec<AcceleratorSpec>,
    /// The last health check per (node, id), reused while fresh.
    health: Mutex<HashMap<(String, String), HealthCheck>>,
    /// One characterization at a time: two would measure each other.
    bench: Mutex<()>,
    adapter_probe: AdapterProbe,
    /// This machine's inventory at start (its accelerators are replaced on registration).
    inventory: Inventory,
    sampler: SamplerConfig,
    store: StoreHandle,
    allocations: Arc<Allocations>,
    cluster: Arc<Cluster>,
    live: Arc<LiveFeed>,
}

/// What [`Accelerators`] is built from.
pub(crate) struct Handles {
    pub configured: Vec<AcceleratorSpec>,
    pub adapter_probe: AdapterProbe,
    pub inventory: Inventory,
    pub sampler: SamplerConfig,
    pub store: StoreHandle,
    pub allocations: Arc<Allocations>,
    pub cluster: Arc<Cluster>,
    pub live: Arc<LiveFeed>,
}

impl Accelerators {
    pub(crate) fn new(h: Handles) -> Accelerators {
        Accelerators {
            configured: h.configured,
            health: Mutex::new(HashMap::new()),
            bench: Mutex::new(()),
            adapter_probe: h.adapter_probe,
            inventory: h.inventory,
            sampler: h.sampler,
            store: h.store,
            allocations: h.allocations,
            cluster: h.cluster,
            live: h.live,
        }
    }
}

/// The accelerators this machine's scheduler node offers: configured and API-registered.
pub(crate) fn local_specs(configured: &[AcceleratorSpec], stored: &[AcceleratorSpec]) -> Vec<AcceleratorSpec> {
    configured.iter().chain(stored).filter(|s| s.node == LOCAL_NODE).cloned().collect()
}

/// `POST /resources/accelerators`: every operation, one line each.
pub(crate) async fn accelerators(a: &Arc<Accelerators>, body: Value) -> Result<AcceleratorsResponse, AllocError> {
    let Request { id, devices, parsed } = body::parse(&body).map_err(AllocError::Invalid)?;
    let operation = parsed.operation();
    let result = match parsed {
        Parsed::List => AcceleratorsResult::List(a.list().await?),
        Parsed::Register(spec) => AcceleratorsResult::Register(a.register(*spec).await?),
        Parsed::Characterize { node, adapter } => {
            AcceleratorsResult::Characterize(a.characterize(node, adapter).await?)
        }
        Parsed::Place(p) => AcceleratorsResult::Place(place::place(a.allocations.clone(), p).await?),
        work @ (Parsed::Analyze { .. } | Parsed::Advise { .. } | Parsed::Map { .. }) => {
            workloads::answer(a, devices, work).await?
        }
    };
    let now = now_ms();
    let request_id = id.unwrap_or_else(|| envelope::generated_id(now));
    Ok(AcceleratorsResponse { request_id, timestamp: format_rfc3339(now), operation, result })
}
