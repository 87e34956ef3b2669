//! A mapping becomes allocations: one request per placed task, pinned to its device, so the
//! allocation engine decides as for any request (priorities, quotas, reservations). Tasks
//! behind another on the same device wait in the engine's queue.

use super::plan::Placement;
use crate::alloc::{AllocationRequest, Constraints, GpuSlot, Priority, ResourceAsk};

/// Who runs a mapped task and what else it holds on the node.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskAsk {
    pub owner: String,
    pub priority: Option<Priority>,
    pub cores: u32,
    pub memory_bytes: u64,
    pub duration_s: Option<u64>,
}

pub fn placement_request(p: &Placement, slot: &GpuSlot, ask: &TaskAsk) -> AllocationRequest {
    AllocationRequest {
        id: Some(p.task.clone()),
        owner: ask.owner.clone(),
        resources: ResourceAsk {
            gpus: 1,
            gpu_memory_bytes: None,
            cores: ask.cores,
            memory_bytes: ask.memory_bytes,
            min: None,
        },
        priority: ask.priority,
        qos: Default::default(),
        duration_s: ask.duration_s,
        constraints: Constraints {
            node: Some(slot.node.clone()),
            gpu: Some(slot.id.clone()),
            mig_profile: slot.mig_profile.clone(),
            ..Default::default()
        },
        reservation: None,
        preemption: Default::default(),
        queue: true,
        workload: None,
    }
}
