//! Nodes coming and going, as Slurm treats them: a node that is not up (suspect, draining,
//! down) takes no new allocations; a down node's running allocations are given up after a
//! grace (requeued when their preemption mode allows, else ended as lost), a removed node's at
//! once; a node that comes back (or reconnects with other GPUs) is allocatable again.

use std::collections::{BTreeMap, HashMap};

use super::engine::Scheduler;
use super::model::{GpuResource, NodeResources};
use super::nodes::NodeAllocState;
use super::record::{AllocState, Allocation, Reservation};
use super::request::PreemptionMode;
use crate::cluster::NodeHealth;

impl Scheduler {
    /// Adds a node, or brings a known one up to date: a removed node comes back, and a node
    /// whose resources changed (GPUs, MIG layout, cores) is rebuilt around what still runs.
    pub fn put_node(&mut self, res: NodeResources, now: i64) {
        let Some(&n) = self.index.node_index.get(&res.node) else {
            return self.add_node(res);
        };
        let node = &mut self.state.nodes[n as usize];
        let rejoined = node.removed || node.stand_in;
        if rejoined {
            (node.removed, node.stand_in, node.health) = (false, false, NodeHealth::Up);
            if let Some(d) = node.down_deadline.take() {
                self.index.down_deadlines.remove(&(d, n));
            }
            self.event_on(now, "node", res.node.clone(), format!("node {} joined again", res.node), &[]);
        }
        let changed = super::mig::without_instance_slots(self.state.nodes[n as usize].res.clone()) != res;
        if changed {
            self.rebuild_node(n, res, now);
        }
        if rejoined || changed {
            self.pass.release_epoch += 1;
            self.schedule(now);
        }
    }

    /// A stand-in for a node that ran allocations before a restart and has not joined yet:
    /// down, so its allocations stay as they were until it joins or the down grace (counted
    /// from the first tick) passes.
    pub(super) fn add_stand_in(&mut self, res: NodeResources) {
        let n = self.state.nodes.len() as u32;
        self.add_node(res);
        let node = &mut self.state.nodes[n as usize];
        (node.stand_in, node.health) = (true, NodeHealth::Down);
        self.state.stand_ins_unarmed.push(n);
    }

    /// Follows the failure detector. Only `Up` takes new work; `Down` starts the grace after
    /// which its running allocations are given up. Unknown nodes are ignored.
    pub fn set_node_state(&mut self, node: &str, health: NodeHealth, now: i64) {
        let Some(&n) = self.index.node_index.get(node) else { return };
        let st = &mut self.state.nodes[n as usize];
        if !st.listed() || st.health == health {
            return;
        }
        let old = std::mem::replace(&mut st.health, health);
        if let Some(d) = st.down_deadline.take() {
            self.index.down_deadlines.remove(&(d, n));
        }
        if health == NodeHealth::Down {
            let at = now + self.config.node_down_grace_ms;
            self.state.nodes[n as usize].down_deadline = Some(at);
            self.index.down_deadlines.insert((at, n));
        }
        let message = format!(
            "node {node} is {} (was {}): {}",
            health.as_str(),
            old.as_str(),
            match health {
                NodeHealth::Up => "allocatable again",
                NodeHealth::Down =>
                    "no new allocations; running ones are given up unless it comes back within the grace",
                _ => "no new allocations; running ones continue",
            }
        );
        self.event_on(now, "node", node.to_string(), message, &[("state", health.as_str().into())]);
        if health == NodeHealth::Up {
            self.pass.release_epoch += 1;
            self.schedule(now);
        }
    }

    /// A node left the cluster: its running allocations are given up now and it takes no work
    /// until it is put again.
    pub fn remove_node(&mut self, node: &str, now: i64) {
        let Some(&n) = self.index.node_index.get(node) else { return };
        if self.state.nodes[n as usize].removed {
            return;
        }
        if let Some(d) = self.state.nodes[n as usize].down_deadline.take() {
            self.index.down_deadlines.remove(&(d, n));
        }
        self.state.nodes[n as usize].removed = true;
        self.event_on(now, "node", node.to_string(), format!("node {node} was removed from the cluster"), &[]);
        self.give_up_running(n, now, &format!("node {node} was removed"));
        self.schedule(now);
    }

    /// Gives up the running allocations of nodes down past their grace (called by `tick`).
    pub(super) fn expire_down_nodes(&mut self, now: i64) {
        for n in std::mem::take(&mut self.state.stand_ins_unarmed) {
            if self.state.nodes[n as usize].stand_in && self.state.nodes[n as usize].down_deadline.is_none() {
                let at = now + self.config.node_down_grace_ms;
                self.state.nodes[n as usize].down_deadline = Some(at);
                self.index.down_deadlines.insert((at, n));
            }
        }
        while let Some(&(at, n)) = self.index.down_deadlines.first() {
            if at > now {
                break;
            }
            self.index.down_deadlines.pop_first();
            self.state.nodes[n as usize].down_deadline = None;
            let node = &self.state.nodes[n as usize];
            let why = match node.stand_in {
                true => format!("node {} did not rejoin after a restart", node.res.node),
                false => format!("node {} is down", node.res.node),
            };
            self.give_up_running(n, at, &why);
        }
    }

    /// Requeues the allocations running on `n` whose preemption mode allows it (a suspended
    /// one cannot resume on a dead node: it starts again too); the others end as lost.
    fn give_up_running(&mut self, n: u32, now: i64, why: &str) {
        let running = self.state.nodes[n as usize].running.clone();
        for idx in running {
            let a = &self.state.allocs[idx as usize];
            let (state, reason) = match a.request.preemption.mode {
                PreemptionMode::Requeue | PreemptionMode::Suspend => (AllocState::Pending, format!("requeued: {why}")),
                PreemptionMode::Cancel => (AllocState::Cancelled, format!("lost: {why}")),
            };
            let kind = if state == AllocState::Pending { "requeued" } else { "lost" };
            self.event(now, kind, idx, reason.clone(), &[("node", self.state.nodes[n as usize].res.node.clone())]);
            self.release(idx, now, state, reason);
        }
    }

    /// Replaces a node's resources: what runs there keeps its GPUs when they all still exist
    /// (by id), else it is requeued; reservations keep the GPUs that still exist.
    fn rebuild_node(&mut self, n: u32, res: NodeResources, now: i64) {
        let name = res.node.clone();
        let fresh = NodeAllocState::new(res);
        for i in self.state.nodes[n as usize].running.clone() {
            if !self.state.allocs[i as usize].gpus.iter().all(|g| fresh.res.gpu_slot(g).is_some()) {
                let why = format!("requeued: its GPUs on node {name} changed");
                self.event(now, "requeued", i, why.clone(), &[("node", name.clone())]);
                self.release(i, now, AllocState::Pending, why);
            }
        }
        let kept = self.state.nodes[n as usize].running.clone();
        for &i in &kept {
            self.vacate(i, now);
        }
        let old = std::mem::replace(&mut self.state.nodes[n as usize], fresh);
        self.index.by_free_gpus.remove(&(old.free_whole_gpus(), n));
        let node = &mut self.state.nodes[n as usize];
        (node.health, node.down_deadline, node.reservations) = (old.health, old.down_deadline, old.reservations);
        self.index.by_free_gpus.insert((node.free_whole_gpus(), n));
        for id in node.reservations.clone() {
            let slots = self.state.resvs[&id]
                .rec
                .gpus
                .iter()
                .filter_map(|g| self.state.nodes[n as usize].res.gpu_slot(g))
                .collect();
            self.state.resvs.get_mut(&id).expect("listed on its node").gpu_slots = slots;
        }
        for i in kept {
            let slots: Vec<usize> = self.state.allocs[i as usize]
                .gpus
                .iter()
                .filter_map(|g| self.state.nodes[n as usize].res.gpu_slot(g))
                .collect();
            self.occupy(i, n, &slots);
        }
        self.event_on(now, "node", name.clone(), format!("node {name} reconnected with changed resources"), &[]);
    }
}

/// The nodes that running records and reservations name but that are not among `known`
/// (remote nodes before they reconnect), shaped to hold exactly those: the GPUs they name, with
/// the memory running shares use, and the running records' cores and memory.
pub(super) fn stand_ins(
    known: &HashMap<String, u32>,
    reservations: &[Reservation],
    allocations: &[Allocation],
) -> Vec<NodeResources> {
    let mut nodes: BTreeMap<&str, (u32, u64, BTreeMap<&str, u64>)> = BTreeMap::new();
    for r in reservations.iter().filter(|r| !known.contains_key(&r.node)) {
        let (_, _, gpus) = nodes.entry(&r.node).or_default();
        for g in &r.gpus {
            gpus.entry(g).or_insert(1);
        }
    }
    for a in allocations.iter().filter(|a| a.state == AllocState::Running) {
        let Some(name) = a.node.as_deref().filter(|n| !known.contains_key(*n)) else { continue };
        let (cores, mem, gpus) = nodes.entry(name).or_default();
        (*cores, *mem) = (*cores + a.cores, *mem + a.memory_bytes);
        for g in &a.gpus {
            let m = gpus.entry(g).or_default();
            *m = (*m + a.gpu_memory_bytes.unwrap_or(1)).max(1);
        }
    }
    nodes
        .into_iter()
        .map(|(name, (cores, memory_bytes, gpus))| NodeResources {
            node: name.to_string(),
            cores,
            memory_bytes,
            labels: Default::default(),
            gpus: gpus
                .into_iter()
                .enumerate()
                .map(|(i, (id, memory_bytes))| GpuResource {
                    id: id.to_string(),
                    index: i as u32,
                    name: String::new(),
                    memory_bytes,
                    mig: vec![],
                })
                .collect(),
            accelerators: vec![],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::alloc::*;
    use crate::cluster::NodeHealth;

    const GIB: u64 = 1 << 30;

    fn node(name: &str, gpus: u32) -> NodeResources {
        let gpus = (0..gpus).map(|i| GpuResource {
            id: NodeResources::gpu_id(name, i),
            index: i,
            name: "GPU".into(),
            memory_bytes: 80 * GIB,
            mig: vec![],
        });
        NodeResources {
            node: name.into(),
            cores: 16,
            memory_bytes: 64 * GIB,
            labels: Default::default(),
            gpus: gpus.collect(),
            accelerators: vec![],
        }
    }

    fn req(id: &str, gpus: u32, mode: PreemptionMode) -> AllocationRequest {
        AllocationRequest {
            id: Some(id.into()),
            owner: "o".into(),
            resources: ResourceAsk { gpus, gpu_memory_bytes: None, cores: 1, memory_bytes: GIB, min: None },
            priority: None,
            qos: Qos::Burstable,
            duration_s: None,
            constraints: Default::default(),
            reservation: None,
            preemption: PreemptionPolicy { mode, grace_s: 0 },
            queue: true,
            workload: None,
        }
    }

    fn on(s: &Scheduler, id: &str) -> (AllocState, Option<String>) {
        let a = s.allocation(id).unwrap();
        (a.state, a.node.clone())
    }

    #[test]
    fn a_node_that_is_not_up_takes_no_new_allocations_and_takes_them_again_once_up() {
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a", 1)]);
        for (k, h) in [NodeHealth::Suspect, NodeHealth::Draining, NodeHealth::Down].into_iter().enumerate() {
            s.set_node_state("a", h, 0);
            let id = format!("r{k}");
            assert_eq!(
                s.allocate(req(&id, 1, PreemptionMode::Requeue), 1).unwrap().state,
                AllocState::Pending,
                "{h:?}"
            );
            if k > 0 {
                s.cancel(&id, 1);
            }
        }
        // Up again: the one left waiting starts.
        s.set_node_state("a", NodeHealth::Up, 2);
        assert_eq!(on(&s, "r0"), (AllocState::Running, Some("a".into())));
    }

    #[test]
    fn a_down_node_gives_up_its_allocations_after_the_grace_unless_it_comes_back() {
        let grace = SchedulerConfig::default().node_down_grace_ms;
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a", 2), node("b", 2)]);
        s.allocate(req("keep", 1, PreemptionMode::Requeue), 0).unwrap();
        s.allocate(req("gone", 1, PreemptionMode::Cancel), 0).unwrap();
        assert_eq!(
            (on(&s, "keep"), on(&s, "gone")),
            ((AllocState::Running, Some("a".into())), (AllocState::Running, Some("a".into())))
        );
        // Back within the grace: nothing happens to what runs there.
        s.set_node_state("a", NodeHealth::Down, 10);
        s.set_node_state("a", NodeHealth::Up, 20);
        s.tick(grace + 100);
        assert_eq!(on(&s, "keep").0, AllocState::Running);
        s.take_changes();
        s.set_node_state("a", NodeHealth::Down, 1000);
        s.tick(1000 + grace - 1);
        assert_eq!(on(&s, "keep").0, AllocState::Running, "still within the grace");
        s.tick(1000 + grace);
        // Requeued, and restarted on the node still up; the cancel-mode one is lost.
        assert_eq!(on(&s, "keep"), (AllocState::Running, Some("b".into())));
        let gone = s.allocation("gone").unwrap();
        assert_eq!((gone.state, gone.pending_reason.as_deref()), (AllocState::Cancelled, Some("lost: node a is down")));
        let events = s.take_changes().events;
        let requeued = events.iter().find(|e| e.kind == "requeued" && e.subject == "keep").unwrap();
        assert_eq!(requeued.message, "requeued: node a is down");
        assert!(events.iter().any(|e| e.kind == "lost" && e.subject == "gone"));
    }

    #[test]
    fn a_removed_node_leaves_at_once_and_may_join_again() {
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a", 1)]);
        s.allocate(req("x", 1, PreemptionMode::Requeue), 0).unwrap();
        s.remove_node("a", 5);
        assert_eq!(on(&s, "x"), (AllocState::Pending, None));
        let events = s.take_changes().events;
        assert!(
            events
                .iter()
                .any(|e| e.kind == "requeued" && e.subject == "x" && e.message == "requeued: node a was removed")
        );
        assert_eq!(s.nodes().count(), 0);
        assert!(s.allocate(req("y", 1, PreemptionMode::Requeue), 6).is_err(), "no node can ever hold it");
        s.put_node(node("a", 1), 7);
        assert_eq!(on(&s, "x"), (AllocState::Running, Some("a".into())));
    }

    #[test]
    fn a_node_that_reconnects_with_other_gpus_keeps_what_still_exists() {
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("a", 2)]);
        s.allocate(req("g0", 1, PreemptionMode::Requeue), 0).unwrap();
        s.allocate(req("g1", 1, PreemptionMode::Requeue), 0).unwrap();
        let g1 = s.allocation("g1").unwrap().gpus.clone();
        assert_eq!(g1, vec![NodeResources::gpu_id("a", 1)]);
        // GPU 1 went away; GPU 0 stays and a bigger node shows up under the same name.
        let mut changed = node("a", 1);
        changed.cores = 32;
        s.put_node(changed.clone(), 10);
        assert_eq!(on(&s, "g0").0, AllocState::Running);
        assert_eq!(on(&s, "g1"), (AllocState::Pending, None));
        let events = s.take_changes().events;
        assert!(
            events.iter().any(|e| e.kind == "requeued"
                && e.subject == "g1"
                && e.message == "requeued: its GPUs on node a changed")
        );
        assert_eq!(s.nodes().next().unwrap().cores, 32);
        // The same resources again change nothing.
        s.put_node(changed, 11);
        assert!(s.take_changes().allocations.is_empty());
        // Growing back to two GPUs lets the requeued one start.
        s.put_node(node("a", 2), 12);
        assert_eq!(on(&s, "g1").0, AllocState::Running);
    }

    #[test]
    fn after_a_restart_work_on_a_node_not_back_yet_waits_for_it_then_for_the_grace() {
        let grace = SchedulerConfig::default().node_down_grace_ms;
        let mut s = Scheduler::new(SchedulerConfig::default(), vec![node("local", 0), node("a", 2), node("b", 2)]);
        s.allocate(req("on-a", 2, PreemptionMode::Requeue), 0).unwrap();
        s.allocate(req("on-b", 1, PreemptionMode::Requeue), 0).unwrap();
        assert_eq!((on(&s, "on-a").1, on(&s, "on-b").1), (Some("a".into()), Some("b".into())));
        let day = 86_400_000;
        let resv = ReservationRequest {
            id: Some("later-on-b".into()),
            name: None,
            owner: "o".into(),
            node: "b".into(),
            gpus: vec![NodeResources::gpu_id("b", 1)],
            cores: 0,
            memory_bytes: 0,
            start_time: time::format_rfc3339(day),
            end_time: time::format_rfc3339(2 * day),
            flags: Default::default(),
            recurrence: None,
        };
        let window = resv.validate("r").unwrap();
        s.reserve(&resv, window, 0).unwrap();
        let (records, reservations) = (s.allocations().to_vec(), s.reservations().cloned().collect());
        // Restarted knowing only the local node: both keep running, on nodes not listed yet,
        // and the reservation on b is kept.
        let mut r = Scheduler::restore(SchedulerConfig::default(), vec![node("local", 0)], reservations, records, 10);
        assert!(r.reservation("later-on-b").is_some());
        assert_eq!(r.nodes().count(), 1);
        r.tick(1000);
        assert_eq!((on(&r, "on-a").0, on(&r, "on-b").0), (AllocState::Running, AllocState::Running));
        assert!(r.allocate(req("new", 1, PreemptionMode::Requeue), 1000).is_err(), "a stand-in admits nothing");
        // a joins: what runs there stays; b never does, and its work is requeued after the grace.
        r.put_node(node("a", 2), 2000);
        r.tick(1000 + grace);
        assert_eq!(on(&r, "on-a"), (AllocState::Running, Some("a".into())));
        assert_eq!(on(&r, "on-b").0, AllocState::Pending);
        let events = r.take_changes().events;
        assert!(
            events
                .iter()
                .any(|e| e.subject == "on-b" && e.message == "requeued: node b did not rejoin after a restart")
        );
        assert_eq!(r.nodes().map(|n| n.node.as_str()).collect::<Vec<_>>(), ["local", "a"]);
        assert_eq!(r.reservations_between(day, day + 1).len(), 1, "the reservation on b is kept while b is away");
    }
}
