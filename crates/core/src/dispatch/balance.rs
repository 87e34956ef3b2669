//! The load balancer: where a partition should run, by free capacity and data locality.
//!
//! A node's cost for one more partition is the data it would have to fetch (bytes ÷ bandwidth)
//! plus the time its queue adds (busy slots ÷ slots × the typical partition time). Moving data
//! is therefore worth it exactly when waiting for a node that holds it would take longer.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the balancer needs to know about a node right now.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLoad {
    pub name: String,
    /// Partitions it may run at once.
    pub slots: u32,
    /// Partitions (of every execution) it runs now.
    pub busy: u32,
    /// Up and not draining.
    pub available: bool,
}

impl NodeLoad {
    pub fn free(&self) -> u32 {
        if self.available { self.slots.saturating_sub(self.busy) } else { 0 }
    }
}

/// A dataset registered with the nodes that hold a copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Dataset {
    pub name: String,
    #[ts(type = "number")]
    pub bytes: u64,
    pub nodes: Vec<String>,
}

/// Registered datasets and the cost of moving them.
#[derive(Debug, Clone, Default)]
pub struct Locality {
    pub datasets: BTreeMap<String, Dataset>,
    /// Bytes per second between nodes; 0 = moving data is free.
    pub bandwidth_bytes_per_s: f64,
}

impl Locality {
    /// Seconds to bring `dataset` to `node` (0 when it holds a copy or the dataset is unknown).
    pub fn move_cost_s(&self, dataset: Option<&str>, node: &str) -> f64 {
        let Some(d) = dataset.and_then(|d| self.datasets.get(d)) else { return 0.0 };
        if d.nodes.iter().any(|n| n == node) || self.bandwidth_bytes_per_s <= 0.0 {
            0.0
        } else {
            d.bytes as f64 / self.bandwidth_bytes_per_s
        }
    }
}

/// Nodes with a free slot, cheapest first; `avoid` (nodes that already failed this partition,
/// or hold a copy of it) only when nothing else is free. Ties go to the node with more free slots.
pub fn rank(
    nodes: &[NodeLoad],
    locality: &Locality,
    dataset: Option<&str>,
    typical_s: f64,
    avoid: &BTreeSet<&str>,
) -> Vec<usize> {
    let mut scored: Vec<(bool, f64, u32, usize)> = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.free() > 0)
        .map(|(i, n)| {
            let wait = n.busy as f64 / n.slots.max(1) as f64 * typical_s;
            (avoid.contains(n.name.as_str()), locality.move_cost_s(dataset, &n.name) + wait, n.free(), i)
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(b.2.cmp(&a.2)).then(a.3.cmp(&b.3)));
    scored.into_iter().map(|s| s.3).collect()
}

/// The initial plan: partition `i` → node, filling free capacity in rank order, so every node
/// gets a share proportional to its free slots (then round-robin over what is left).
pub fn plan(
    partitions: u32,
    nodes: &[NodeLoad],
    locality: &Locality,
    dataset: Option<&str>,
    typical_s: f64,
) -> Vec<Option<String>> {
    let mut view = nodes.to_vec();
    let mut out = Vec::with_capacity(partitions as usize);
    for _ in 0..partitions {
        let pick = rank(&view, locality, dataset, typical_s, &BTreeSet::new()).first().copied();
        match pick {
            Some(i) => {
                view[i].busy += 1;
                out.push(Some(view[i].name.clone()));
            }
            None => out.push(None),
        }
    }
    // Whatever did not fit now queues behind the least loaded available nodes.
    let avail: Vec<&NodeLoad> = nodes.iter().filter(|n| n.available && n.slots > 0).collect();
    for (k, slot) in out.iter_mut().filter(|s| s.is_none()).enumerate() {
        if !avail.is_empty() {
            *slot = Some(avail[k % avail.len()].name.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, slots: u32, busy: u32) -> NodeLoad {
        NodeLoad { name: name.into(), slots, busy, available: true }
    }

    #[test]
    fn prefers_free_capacity_then_locality_unless_waiting_costs_more() {
        let nodes = [node("a", 4, 3), node("b", 4, 0), node("c", 4, 1)];
        let none = BTreeSet::new();
        assert_eq!(rank(&nodes, &Locality::default(), None, 10.0, &none), [1, 2, 0]);
        let mut loc = Locality { bandwidth_bytes_per_s: 1e9, ..Default::default() };
        loc.datasets.insert("d".into(), Dataset { name: "d".into(), bytes: 5_000_000_000, nodes: vec!["c".into()] });
        // Fetching 5 GB takes 5 s; c's queue adds 2.5 s: c wins.
        assert_eq!(rank(&nodes, &loc, Some("d"), 10.0, &none)[0], 2);
        // With 100 s partitions, c's queue (25 s) costs more than the move (5 s): b wins.
        assert_eq!(rank(&nodes, &loc, Some("d"), 100.0, &none)[0], 1);
        // A node to avoid is picked last.
        assert_eq!(rank(&nodes, &Locality::default(), None, 10.0, &["b"].into())[2], 1);
    }

    #[test]
    fn plan_is_proportional_to_free_slots() {
        let nodes = [node("big", 6, 0), node("small", 2, 0), NodeLoad { available: false, ..node("down", 8, 0) }];
        let p = plan(8, &nodes, &Locality::default(), None, 1.0);
        assert_eq!(p.iter().filter(|n| n.as_deref() == Some("big")).count(), 6);
        assert_eq!(p.iter().filter(|n| n.as_deref() == Some("small")).count(), 2);
    }
}
