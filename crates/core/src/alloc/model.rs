//! What can be allocated: nodes with cores, memory, GPUs and other accelerators.
//!
//! The local node is built from real telemetry (inventory + snapshot) at the api edge; remote
//! nodes use the same shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodeResources {
    pub node: String,
    pub cores: u32,
    #[ts(type = "number")]
    pub memory_bytes: u64,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub gpus: Vec<GpuResource>,
    #[serde(default)]
    pub accelerators: Vec<Accelerator>,
}

/// One GPU. Allocations take it whole or a share of its memory (`gpu_memory_bytes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GpuResource {
    /// `<node>/gpu<index>`: the name reservations and allocations use.
    pub id: String,
    pub index: u32,
    pub name: String,
    #[ts(type = "number")]
    pub memory_bytes: u64,
    /// MIG instances where the driver reports them (each allocatable like a small GPU).
    #[serde(default)]
    pub mig: Vec<MigInstance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MigInstance {
    pub id: String,
    pub profile: String,
    #[ts(type = "number")]
    pub memory_bytes: u64,
}

/// A non-GPU accelerator (TPU, NPU, FPGA, ...), inventoried but allocated only by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Accelerator {
    pub id: String,
    pub kind: String,
    pub name: String,
}

impl NodeResources {
    pub fn gpu_id(node: &str, index: u32) -> String {
        format!("{node}/gpu{index}")
    }

    /// Position of `gpu_id` in `gpus`.
    pub fn gpu_slot(&self, gpu_id: &str) -> Option<usize> {
        self.gpus.iter().position(|g| g.id == gpu_id)
    }
}
