//! Degradation's hold on allocations: while a QoS class is held, its running allocations are
//! suspended (queued to resume, as a preemption in `suspend` mode leaves them) and its queued
//! ones wait with the hold as their reason; once it is lifted the next pass starts them again.
//! Guaranteed QoS is never held.

use std::collections::BTreeSet;

use super::engine::Scheduler;
use super::record::AllocState;
use super::request::{PreemptionMode, Qos};

impl Scheduler {
    /// Holds exactly `classes` (guaranteed is left out) because of `why`, then schedules; the
    /// ids of the allocations suspended now.
    pub fn set_hold(&mut self, classes: &BTreeSet<Qos>, why: &str, now: i64) -> Vec<String> {
        let classes: BTreeSet<Qos> = classes.iter().copied().filter(|q| *q != Qos::Guaranteed).collect();
        if classes == self.state.held && why == self.state.held_why {
            return vec![];
        }
        self.state.held = classes;
        self.state.held_why = why.to_string();
        let running: Vec<u32> = (0..self.state.allocs.len() as u32)
            .filter(|&i| {
                let a = &self.state.allocs[i as usize];
                a.state == AllocState::Running && self.state.held.contains(&a.qos)
            })
            .collect();
        let mut suspended = Vec::with_capacity(running.len());
        for idx in running {
            self.release_with_mode(idx, now, PreemptionMode::Suspend, format!("held by degradation: {why}"));
            let message = format!(
                "suspended while {} allocations are held: {why}",
                qos_word(self.state.allocs[idx as usize].qos)
            );
            self.event(now, "suspend", idx, message, &[("by", "degradation".into())]);
            suspended.push(self.state.allocs[idx as usize].id.clone());
        }
        self.schedule(now);
        suspended
    }

    /// The QoS classes held now.
    pub fn held_classes(&self) -> &BTreeSet<Qos> {
        &self.state.held
    }

    /// Why `idx` may not start now, if its class is held.
    pub(super) fn hold_reason(&self, idx: u32) -> Option<String> {
        let qos = self.state.allocs[idx as usize].qos;
        self.state.held.contains(&qos).then(|| format!("held by degradation: {}", self.state.held_why))
    }
}

fn qos_word(q: Qos) -> &'static str {
    match q {
        Qos::Guaranteed => "guaranteed",
        Qos::Burstable => "burstable",
        Qos::BestEffort => "best-effort",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::alloc::*;

    fn scheduler() -> Scheduler {
        let gpus = (0..2).map(|i| GpuResource {
            id: NodeResources::gpu_id("n", i),
            index: i,
            name: "GPU".into(),
            memory_bytes: 1 << 30,
            mig: vec![],
        });
        let node = NodeResources {
            node: "n".into(),
            cores: 8,
            memory_bytes: 8 << 30,
            labels: Default::default(),
            gpus: gpus.collect(),
            accelerators: vec![],
        };
        Scheduler::new(SchedulerConfig::default(), vec![node])
    }

    fn req(id: &str, qos: Qos) -> AllocationRequest {
        AllocationRequest {
            id: Some(id.into()),
            owner: "o".into(),
            resources: ResourceAsk { gpus: 1, gpu_memory_bytes: None, cores: 1, memory_bytes: 1 << 20, min: None },
            priority: None,
            qos,
            duration_s: None,
            constraints: Default::default(),
            reservation: None,
            preemption: Default::default(),
            queue: true,
            workload: None,
        }
    }

    fn state(s: &Scheduler, id: &str) -> (AllocState, String) {
        let a = s.allocation(id).unwrap();
        (a.state, a.pending_reason.clone().unwrap_or_default())
    }

    #[test]
    fn a_held_class_is_suspended_and_waits_until_the_hold_is_lifted() {
        let mut s = scheduler();
        s.allocate(req("batch", Qos::BestEffort), 0).unwrap();
        s.allocate(req("service", Qos::Guaranteed), 0).unwrap();
        let classes = BTreeSet::from([Qos::BestEffort, Qos::Guaranteed]);
        assert_eq!(s.set_hold(&classes, "memory at 92 %", 10), vec!["batch".to_string()]);
        assert_eq!(s.held_classes(), &BTreeSet::from([Qos::BestEffort]), "guaranteed is never held");
        assert_eq!(state(&s, "service").0, AllocState::Running);
        let (st, why) = state(&s, "batch");
        assert_eq!(st, AllocState::Suspended);
        assert!(why.contains("memory at 92 %"), "{why}");
        // A GPU is free, yet a queued best-effort request waits, saying why.
        s.enqueue(req("late", Qos::BestEffort), 20).unwrap();
        s.tick(30);
        let (st, why) = state(&s, "late");
        assert_eq!(st, AllocState::Pending);
        assert_eq!(why, "held by degradation: memory at 92 %");
        assert!(s.set_hold(&classes, "memory at 92 %", 40).is_empty(), "holding again changes nothing");
        // Lifted: one GPU is free (the service holds the other), and the older request takes it.
        s.set_hold(&BTreeSet::new(), "", 50);
        assert_eq!(state(&s, "batch").0, AllocState::Running);
        assert_eq!(state(&s, "late").0, AllocState::Pending);
        assert!(!state(&s, "late").1.contains("held"), "the hold's reason is gone");
    }
}
