//! This machine as an allocatable node, named `local` as everywhere else: the shared telemetry
//! mapping over this machine's inventory and one NVML reading taken at start.

use steward_core::alloc::{NodeResources, node_from_telemetry};
use steward_core::{Inventory, Reading, Snapshot};
use steward_telemetry::Collector;
use steward_telemetry::SamplerConfig;
use steward_telemetry::gpu_nvidia::NvidiaCollector;

use crate::cluster::LOCAL_NODE;

pub(crate) fn local_node(inventory: &Inventory, sampler: &SamplerConfig, now_ms: i64) -> NodeResources {
    let mut snap = Snapshot::empty(now_ms);
    if sampler.gpus {
        NvidiaCollector::new(sampler.nvml_lib.as_deref()).collect(now_ms, &mut snap);
    } else {
        snap.gpus = Reading::unavailable("GPU sampling is off");
    }
    node_from_telemetry(LOCAL_NODE, inventory, &snap.gpus, [("local".to_string(), "true".to_string())].into())
}
