//! Placement through the allocation engine: every partition attempt is an allocation pinned to
//! the chosen node, granted now or not at all, so dispatched work respects priorities, quotas
//! and reservations exactly like any other allocation, and releases it when the attempt ends.

use crate::alloc::{
    AllocState, AllocationRequest, Constraints, PreemptionPolicy, Priority, Qos, ResourceAsk, Scheduler,
};

/// What one partition attempt needs on its node.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionAsk {
    pub owner: String,
    pub cores: u32,
    pub memory_bytes: u64,
    pub gpus: u32,
    pub priority: Option<Priority>,
}

/// What was granted: the GPU indices the attempt may see.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grant {
    pub gpus: Vec<u32>,
}

/// Grants and releases resources for attempts.
pub trait Placer {
    /// Holds `ask` on `node` for `attempt_id` now, or `None` when the rules say no.
    fn place(&mut self, attempt_id: &str, node: &str, ask: &PartitionAsk, now_ms: i64) -> Option<Grant>;
    fn release(&mut self, attempt_id: &str, now_ms: i64);
}

/// Places on whatever has a free slot (no allocation engine): tests and the no-op benchmark.
pub struct Unconstrained;

impl Placer for Unconstrained {
    fn place(&mut self, _: &str, _: &str, _: &PartitionAsk, _: i64) -> Option<Grant> {
        Some(Grant::default())
    }
    fn release(&mut self, _: &str, _: i64) {}
}

impl Placer for Scheduler {
    fn place(&mut self, attempt_id: &str, node: &str, ask: &PartitionAsk, now_ms: i64) -> Option<Grant> {
        let req = AllocationRequest {
            id: Some(attempt_id.to_string()),
            owner: ask.owner.clone(),
            resources: ResourceAsk {
                gpus: ask.gpus,
                gpu_memory_bytes: None,
                cores: ask.cores,
                memory_bytes: ask.memory_bytes,
                min: None,
            },
            priority: ask.priority,
            qos: Qos::Burstable,
            duration_s: None,
            constraints: Constraints { node: Some(node.to_string()), ..Default::default() },
            reservation: None,
            preemption: PreemptionPolicy::default(),
            queue: false,
            workload: None,
        };
        let a = self.allocate(req, now_ms).ok().filter(|a| a.state == AllocState::Running)?;
        let res = self.nodes().find(|n| n.node == node)?;
        let gpus = a.gpus.iter().filter_map(|g| res.gpu_slot(g).map(|s| res.gpus[s].index)).collect();
        Some(Grant { gpus })
    }

    fn release(&mut self, attempt_id: &str, now_ms: i64) {
        self.release_attempt(attempt_id, now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::{GpuResource, NodeResources, PriorityClass, ReservationRequest, SchedulerConfig};

    fn node(name: &str) -> NodeResources {
        NodeResources {
            node: name.into(),
            cores: 4,
            memory_bytes: 1 << 30,
            labels: Default::default(),
            gpus: (0..2)
                .map(|i| GpuResource {
                    id: NodeResources::gpu_id(name, i),
                    index: i,
                    name: "H100".into(),
                    memory_bytes: 80 << 30,
                    mig: vec![],
                })
                .collect(),
            accelerators: vec![],
        }
    }

    fn ask(cores: u32, gpus: u32) -> PartitionAsk {
        PartitionAsk { owner: "dispatch".into(), cores, memory_bytes: 0, gpus, priority: None }
    }

    #[test]
    fn attempts_are_allocations_that_respect_capacity_and_are_released() {
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a")]);
        let g = s.place("t.p0.a1", "a", &ask(2, 1), 0).unwrap();
        assert_eq!(g.gpus.len(), 1);
        assert!(s.place("t.p1.a1", "a", &ask(2, 1), 0).is_some());
        assert!(s.place("t.p2.a1", "a", &ask(1, 0), 0).is_none(), "no cores left");
        s.release("t.p0.a1", 1);
        // Ended with its attempt, not "cancelled by the user".
        let done = s.allocation("t.p0.a1").unwrap();
        assert_eq!(done.state, AllocState::Finished, "{done:?}");
        assert_eq!(done.pending_reason.as_deref(), Some("released: its partition attempt ended"));
        assert!(s.place("t.p2.a2", "a", &ask(1, 0), 1).is_some());
        assert!(s.place("x", "nowhere", &ask(1, 0), 1).is_none());
    }

    #[test]
    fn a_reservation_keeps_partitions_off_its_gpus() {
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a")]);
        let r = ReservationRequest {
            id: Some("r".into()),
            name: None,
            owner: "lab".into(),
            node: "a".into(),
            gpus: vec!["a/gpu0".into(), "a/gpu1".into()],
            cores: 0,
            memory_bytes: 0,
            start_time: "1970-01-01T00:00:00Z".into(),
            end_time: "1970-01-02T00:00:00Z".into(),
            flags: Default::default(),
            recurrence: None,
        };
        let w = r.validate("r").unwrap();
        s.reserve(&r, w, 0).unwrap();
        assert!(s.place("t.p0.a1", "a", &ask(1, 1), 1000).is_none(), "GPUs are reserved");
        assert!(s.place("t.p0.a2", "a", &ask(1, 0), 1000).is_some(), "cores are not");
        let _ = PriorityClass::Normal;
    }
}
