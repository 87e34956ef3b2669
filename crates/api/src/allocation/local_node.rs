//! This machine as an allocatable node: cores and memory from the inventory, GPUs (with their
//! memory) from NVML, read once at start.

use steward_core::alloc::{Accelerator, GpuResource, NodeResources};
use steward_core::{Inventory, Snapshot};
use steward_telemetry::Collector;
use steward_telemetry::gpu_nvidia::NvidiaCollector;
use steward_telemetry::SamplerConfig;

pub(crate) fn local_node(inventory: &Inventory, sampler: &SamplerConfig, now_ms: i64) -> NodeResources {
    let node = inventory.hostname.clone();
    let mut gpus = Vec::new();
    if sampler.gpus {
        let mut snap = Snapshot::empty(now_ms);
        NvidiaCollector::new(sampler.nvml_lib.as_deref()).collect(now_ms, &mut snap);
        if let Some(list) = snap.gpus.value() {
            gpus = list
                .iter()
                .map(|g| GpuResource {
                    id: NodeResources::gpu_id(&node, g.index),
                    index: g.index,
                    name: g.name.clone(),
                    // Unknown memory stays 0: whole-GPU allocations still work, shares do not.
                    memory_bytes: g.memory_total_bytes.value().copied().unwrap_or(0),
                    mig: Vec::new(),
                })
                .collect();
        }
    }
    let accelerators = inventory
        .adapters
        .value()
        .map(|list| {
            list.iter()
                .filter(|a| !a.is_software && a.device_type != "cpu" && !a.name.to_lowercase().contains("nvidia"))
                .enumerate()
                .map(|(i, a)| Accelerator { id: format!("{node}/{}{i}", a.backend), kind: a.device_type.clone(), name: a.name.clone() })
                .collect()
        })
        .unwrap_or_default();
    NodeResources {
        node,
        cores: inventory.logical_cores,
        memory_bytes: inventory.memory_total_bytes,
        labels: [("local".to_string(), "true".to_string())].into(),
        gpus,
        accelerators,
    }
}
