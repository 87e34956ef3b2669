//! MIG instances as allocation units. A GPU in MIG mode lists its instances
//! (`GpuResource::mig`); the engine gives each instance a GPU slot of its own after the node's
//! GPUs, taken whole by requests that ask for its profile (`constraints.mig_profile`) and by no
//! one else, while the GPU in MIG mode is never given whole or in shares.

use super::model::{GpuResource, NodeResources};
use super::request::Constraints;

/// The node with one slot per MIG instance appended (idempotent: slots already there are
/// rebuilt, so a node read back from the engine can be given to it again).
pub(crate) fn with_instance_slots(mut res: NodeResources) -> NodeResources {
    res.gpus.retain(|g| !is_instance_slot(g));
    let slots: Vec<GpuResource> = res
        .gpus
        .iter()
        .flat_map(|g| {
            g.mig.iter().map(|m| GpuResource {
                id: m.id.clone(),
                index: g.index,
                name: format!("{} MIG {}", g.name, m.profile),
                memory_bytes: m.memory_bytes,
                mig: vec![m.clone()],
            })
        })
        .collect();
    res.gpus.extend(slots);
    res
}

/// The node as telemetry described it: without the engine's instance slots.
pub fn without_instance_slots(mut res: NodeResources) -> NodeResources {
    res.gpus.retain(|g| !is_instance_slot(g));
    res
}

/// An instance's own slot lists itself as its only instance.
pub(crate) fn is_instance_slot(g: &GpuResource) -> bool {
    matches!(g.mig.as_slice(), [m] if m.id == g.id)
}

/// Whether a request under `c` may use slot `g` at all: instances of the profile it asks for,
/// or GPUs not in MIG mode when it asks for none.
pub(crate) fn slot_ok(g: &GpuResource, c: &Constraints) -> bool {
    match c.mig_profile.as_deref() {
        Some(p) => is_instance_slot(g) && g.mig[0].profile.eq_ignore_ascii_case(p),
        None => g.mig.is_empty(),
    }
}

/// `<gpu id>/mig<index>`: the name reservations and allocations use for an instance.
pub fn instance_id(gpu_id: &str, index: u32) -> String {
    format!("{gpu_id}/mig{index}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::*;

    const GIB: u64 = 1 << 30;

    /// gpu0 whole; gpu1 in MIG mode with two 1g.10gb instances and one 2g.20gb.
    fn node() -> NodeResources {
        let gpu = |i: u32, mig: Vec<MigInstance>| GpuResource {
            id: NodeResources::gpu_id("n", i),
            index: i,
            name: "A100".into(),
            memory_bytes: 40 * GIB,
            mig,
        };
        let inst = |k: u32, profile: &str, gib: u64| MigInstance {
            id: instance_id("n/gpu1", k),
            profile: profile.into(),
            memory_bytes: gib * GIB,
        };
        NodeResources {
            node: "n".into(),
            cores: 16,
            memory_bytes: 64 * GIB,
            labels: Default::default(),
            gpus: vec![
                gpu(0, vec![]),
                gpu(1, vec![inst(0, "1g.10gb", 10), inst(1, "1g.10gb", 10), inst(2, "2g.20gb", 20)]),
            ],
            accelerators: vec![],
        }
    }

    fn req(id: &str, gpus: u32, mig: Option<&str>, share: Option<u64>, priority: i32) -> AllocationRequest {
        AllocationRequest {
            id: Some(id.into()),
            owner: "o".into(),
            resources: ResourceAsk { gpus, gpu_memory_bytes: share, cores: 1, memory_bytes: GIB, min: None },
            priority: Some(Priority::Value(priority)),
            qos: Qos::Burstable,
            duration_s: None,
            constraints: Constraints { mig_profile: mig.map(str::to_string), ..Default::default() },
            reservation: None,
            preemption: Default::default(),
            queue: true,
            workload: None,
        }
    }

    #[test]
    fn slots_are_appended_once_and_stripped_for_display() {
        let slots = with_instance_slots(with_instance_slots(node()));
        let ids: Vec<&str> = slots.gpus.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["n/gpu0", "n/gpu1", "n/gpu1/mig0", "n/gpu1/mig1", "n/gpu1/mig2"]);
        assert_eq!(slots.gpus[4].name, "A100 MIG 2g.20gb");
        assert_eq!(without_instance_slots(slots), node());
    }

    #[test]
    fn instances_are_taken_whole_by_profile_and_the_mig_gpu_never_whole_or_shared() {
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node()]);
        let a = s.allocate(req("a", 1, Some("1g.10gb"), None, 500), 0).unwrap();
        let b = s.allocate(req("b", 1, Some("1G.10GB"), None, 500), 0).unwrap();
        assert_eq!(
            (a.gpus.as_slice(), b.gpus.as_slice()),
            (["n/gpu1/mig0".to_string()].as_slice(), ["n/gpu1/mig1".to_string()].as_slice())
        );
        // No third 1g.10gb: it waits rather than taking the 2g instance or a GPU.
        assert_eq!(s.allocate(req("c", 1, Some("1g.10gb"), None, 500), 0).unwrap().state, AllocState::Pending);
        // Whole GPUs: only gpu0 qualifies, so two can never be held on this node.
        assert_eq!(s.allocate(req("w", 1, None, None, 500), 0).unwrap().gpus, ["n/gpu0"]);
        assert!(s.allocate(req("ww", 2, None, None, 500), 0).unwrap_err().error.contains("no node can ever hold"));
        // A share never lands on the MIG GPU (gpu0 is taken whole).
        assert_eq!(s.allocate(req("s", 1, None, Some(GIB), 500), 0).unwrap().state, AllocState::Pending);
        // An unknown profile can never run.
        assert!(s.allocate(req("x", 1, Some("7g.80gb"), None, 500), 0).is_err());
        // Cancelling frees the instance for the waiting request.
        s.cancel("a", 1);
        assert_eq!(s.allocation("c").unwrap().gpus, ["n/gpu1/mig0"]);
    }

    #[test]
    fn an_instance_can_be_reserved_and_used_inside_its_reservation() {
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node()]);
        let r = ReservationRequest {
            id: Some("r".into()),
            name: None,
            owner: "o".into(),
            node: "n".into(),
            gpus: vec!["n/gpu1/mig2".into()],
            cores: 0,
            memory_bytes: 0,
            start_time: "2030-01-01T00:00:00Z".into(),
            end_time: "2030-01-01T01:00:00Z".into(),
            flags: Default::default(),
            recurrence: None,
        };
        let start = r.validate("r").unwrap().start_ms;
        s.reserve(&r, r.validate("r").unwrap(), start - 1000).unwrap();
        let mut inside = req("in", 1, Some("2g.20gb"), None, 500);
        inside.reservation = Some("r".into());
        s.allocate(inside, start - 1000).unwrap();
        s.tick(start);
        assert_eq!(s.allocation("in").unwrap().gpus, ["n/gpu1/mig2"]);
    }

    #[test]
    fn a_higher_priority_request_preempts_an_instance_holder() {
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node()]);
        s.allocate(req("low", 1, Some("2g.20gb"), None, 0), 0).unwrap();
        let high = s.allocate(req("high", 1, Some("2g.20gb"), None, 750), 1).unwrap();
        assert_eq!((high.state, high.gpus.as_slice()), (AllocState::Running, ["n/gpu1/mig2".to_string()].as_slice()));
        assert_eq!(s.allocation("low").unwrap().state, AllocState::Pending);
    }
}
