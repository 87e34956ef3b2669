//! The GPUs (and MIG instances) the scheduler could give a task, as the accelerator mapper sees
//! them: free now, free when the allocations holding them end, or not offered and why (node not
//! taking work, reserved for someone else, held with no end).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::engine::Scheduler;
use super::mig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export)]
pub enum SlotAvailability {
    Free,
    /// Busy until this time (ms), when the allocations holding it end.
    FreeAt {
        at_ms: i64,
    },
    Unavailable {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GpuSlot {
    /// `<node>/gpu<index>`, or a MIG instance's id.
    pub id: String,
    pub node: String,
    pub name: String,
    pub memory_bytes: u64,
    /// Set for a MIG instance: the profile a request must name to use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub mig_profile: Option<String>,
    pub availability: SlotAvailability,
}

impl Scheduler {
    /// Every GPU slot of every listed node, for a task running over `[now, until)` (`None`:
    /// open end) outside any reservation. GPUs in MIG mode appear as their instances.
    pub fn gpu_slots(&self, now: i64, until: Option<i64>) -> Vec<GpuSlot> {
        let mut out = Vec::new();
        for (n, node) in self.state.nodes.iter().enumerate().filter(|(_, n)| n.listed()) {
            let capacity = self.capacity(n as u32, None, now, until);
            for (s, g) in node.res.gpus.iter().enumerate() {
                let instance = mig::is_instance_slot(g);
                if !g.mig.is_empty() && !instance {
                    continue;
                }
                let availability = if !node.takes_work() {
                    SlotAvailability::Unavailable {
                        reason: format!("node {} takes no work ({:?})", node.res.node, node.health).to_lowercase(),
                    }
                } else if !capacity.usable[s] {
                    SlotAvailability::Unavailable { reason: self.reserved_by(n, s, now, until) }
                } else if node.gpu_used[s] > 0 {
                    self.busy_until(n, &g.id)
                } else {
                    SlotAvailability::Free
                };
                out.push(GpuSlot {
                    id: g.id.clone(),
                    node: node.res.node.clone(),
                    name: g.name.clone(),
                    memory_bytes: g.memory_bytes,
                    mig_profile: instance.then(|| g.mig[0].profile.clone()),
                    availability,
                });
            }
        }
        out
    }

    fn reserved_by(&self, n: usize, slot: usize, now: i64, until: Option<i64>) -> String {
        let node = &self.state.nodes[n];
        let names: Vec<&str> = node
            .reservations
            .iter()
            .map(|id| &self.state.resvs[id])
            .filter(|r| r.gpu_slots.contains(&slot) && !r.series.overlapping(now, until.unwrap_or(i64::MAX)).is_empty())
            .map(|r| r.rec.name.as_str())
            .collect();
        format!("reserved by {}", names.join(", "))
    }

    /// When the allocations on GPU `id` all end, or why it never frees by itself.
    fn busy_until(&self, n: usize, id: &str) -> SlotAvailability {
        let holders: Vec<_> = self.state.nodes[n]
            .running
            .iter()
            .map(|&i| &self.state.allocs[i as usize])
            .filter(|a| a.gpus.iter().any(|g| g == id))
            .collect();
        match holders.iter().find(|a| a.end_time.is_none()) {
            Some(open) => SlotAvailability::Unavailable { reason: format!("held by {} with no end", open.id) },
            None => match holders.iter().filter_map(|a| a.end_time).max() {
                Some(at_ms) => SlotAvailability::FreeAt { at_ms },
                None => SlotAvailability::Unavailable { reason: "in use".into() },
            },
        }
    }
}
