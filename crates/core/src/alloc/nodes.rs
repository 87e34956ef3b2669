//! Per-node capacity: what is free now, and what a request may use once reservations are
//! taken into account. Kept incrementally so a decision never scans every allocation.

use super::mig;
use super::model::{GpuResource, NodeResources};
use super::request::{AllocationRequest, Constraints};
use crate::cluster::NodeHealth;

/// What an allocation holds (or asks for) on one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ask {
    pub gpus: u32,
    /// Memory per GPU when a share of one GPU is asked; `None` = whole GPUs.
    pub gpu_share: Option<u64>,
    pub cores: u32,
    pub mem: u64,
}

impl Ask {
    pub fn of(req: &AllocationRequest) -> Ask {
        let r = &req.resources;
        Ask { gpus: r.gpus, gpu_share: r.gpu_memory_bytes, cores: r.cores, mem: r.memory_bytes }
    }
}

pub(crate) struct NodeAllocState {
    pub res: NodeResources,
    pub free_cores: u32,
    pub free_mem: u64,
    /// GPU memory in use per slot (a whole-GPU allocation uses all of it).
    pub gpu_used: Vec<u64>,
    /// Running allocations (indices into the scheduler's allocation table).
    pub running: Vec<u32>,
    /// Cores/memory used by running allocations that run inside a reservation.
    pub in_resv_cores: u32,
    pub in_resv_mem: u64,
    /// Reservations on this node (ids).
    pub reservations: Vec<String>,
    /// What the cluster's failure detector says: only an up node takes new allocations.
    pub health: NodeHealth,
    /// When its running allocations are given up, while it is down.
    pub down_deadline: Option<i64>,
    /// Removed from the cluster: kept as a tombstone so node numbers stay valid.
    pub removed: bool,
    /// Built at a restart from what runs there, until the node itself joins (see
    /// `Scheduler::restore`): not listed, and never a reason to admit a request.
    pub stand_in: bool,
}

impl NodeAllocState {
    pub fn new(res: NodeResources) -> NodeAllocState {
        let res = mig::with_instance_slots(res);
        NodeAllocState {
            free_cores: res.cores,
            free_mem: res.memory_bytes,
            // A GPU in MIG mode is never idle: only its instances are given out.
            gpu_used: res
                .gpus
                .iter()
                .map(|g| if g.mig.is_empty() || mig::is_instance_slot(g) { 0 } else { g.memory_bytes.max(1) })
                .collect(),
            running: Vec::new(),
            in_resv_cores: 0,
            in_resv_mem: 0,
            reservations: Vec::new(),
            health: NodeHealth::Up,
            down_deadline: None,
            removed: false,
            stand_in: false,
            res,
        }
    }

    /// Whether the node is part of the cluster as far as callers see (listed, admits requests).
    pub fn listed(&self) -> bool {
        !self.removed && !self.stand_in
    }

    /// Whether new allocations may start here (placement, preemption, backfill shadow).
    pub fn takes_work(&self) -> bool {
        self.health == NodeHealth::Up && self.listed()
    }

    pub fn free_whole_gpus(&self) -> u32 {
        self.gpu_used.iter().filter(|&&u| u == 0).count() as u32
    }

    /// Whether this node could ever hold `ask` under `c` (capacity and constraints, not load).
    pub fn could_hold(&self, ask: &Ask, c: &Constraints) -> bool {
        let r = &self.res;
        if c.node.as_deref().is_some_and(|n| n != r.node) {
            return false;
        }
        if !c.labels.iter().all(|(k, v)| r.labels.get(k) == Some(v)) {
            return false;
        }
        if c.accelerator_kind.as_deref().is_some_and(|k| !r.accelerators.iter().any(|a| a.kind.eq_ignore_ascii_case(k)))
        {
            return false;
        }
        let gpus_ok = match ask.gpu_share {
            Some(share) => r.gpus.iter().any(|g| gpu_ok(g, c) && g.memory_bytes >= share),
            None => r.gpus.iter().filter(|g| gpu_ok(g, c)).count() as u32 >= ask.gpus,
        };
        gpus_ok && r.cores >= ask.cores && r.memory_bytes >= ask.mem
    }

    /// Whether a request under `c` may use GPU slot `slot` (model, MIG profile).
    pub fn gpu_model_ok(&self, slot: usize, c: &Constraints) -> bool {
        gpu_ok(&self.res.gpus[slot], c)
    }
}

fn gpu_ok(g: &GpuResource, c: &Constraints) -> bool {
    c.gpu_model.as_deref().is_none_or(|m| g.name.to_lowercase().contains(&m.to_lowercase()))
        && c.gpu.as_deref().is_none_or(|id| g.id == id)
        && mig::slot_ok(g, c)
}

/// What a request may use on a node right now: GPU slots it may touch, cores and memory.
#[derive(Debug, Clone)]
pub(crate) struct Capacity {
    /// Per GPU slot: may this request use it at all (not reserved for someone else)?
    pub usable: Vec<bool>,
    pub cores: u32,
    pub mem: u64,
    /// How far reservations overlapping the run overdraw the shared pool (`cores`/`mem` are
    /// then 0): cores/memory freed on the node (by shrinking or preempting) fill this first.
    pub short_cores: u32,
    pub short_mem: u64,
}

impl Capacity {
    /// Picks GPU slots for `ask` among usable ones: whole GPUs need an idle GPU, a share needs
    /// enough free memory (best fit, so shares pack together).
    pub fn pick_gpus(&self, node: &NodeAllocState, ask: &Ask, c: &Constraints) -> Option<Vec<usize>> {
        if ask.gpus == 0 {
            return Some(Vec::new());
        }
        let ok = |s: usize| self.usable[s] && node.gpu_model_ok(s, c);
        match ask.gpu_share {
            Some(share) => (0..node.gpu_used.len())
                .filter(|&s| ok(s) && node.res.gpus[s].memory_bytes - node.gpu_used[s] >= share)
                .min_by_key(|&s| node.res.gpus[s].memory_bytes - node.gpu_used[s])
                .map(|s| vec![s]),
            None => {
                let picked: Vec<usize> = (0..node.gpu_used.len())
                    .filter(|&s| node.gpu_used[s] == 0 && ok(s))
                    .take(ask.gpus as usize)
                    .collect();
                (picked.len() == ask.gpus as usize).then_some(picked)
            }
        }
    }

    pub fn fits_cpu_mem(&self, ask: &Ask) -> bool {
        self.cores >= ask.cores && self.mem >= ask.mem
    }
}
