//! Power budgets for the scheduler: a request that would push a node's or the cluster's
//! predicted power over its budget waits, and its pending reason names the budget. Predicted
//! power is a linear model — a node's idle draw plus, per running allocation, its whole GPUs'
//! and cores' draw — the same for every node (configured, not measured).

use std::collections::BTreeMap;

use crate::alloc::engine::Scheduler;
use crate::alloc::nodes::Ask;

#[derive(Debug, Clone, PartialEq)]
pub struct PowerBudget {
    /// Budget per node id, in watts; nodes not listed have none.
    pub node_w: BTreeMap<String, f64>,
    /// Budget of all nodes together.
    pub cluster_w: Option<f64>,
    /// Predicted draw of an up node running nothing.
    pub node_idle_w: f64,
    /// Predicted draw of one busy GPU (a share of one counts as a whole one: it keeps it busy).
    pub gpu_w: f64,
    /// Predicted draw of one busy core.
    pub core_w: f64,
}

impl PowerBudget {
    /// The predicted power an allocation of `ask` adds.
    pub fn ask_w(&self, ask: &Ask) -> f64 {
        f64::from(ask.gpus) * self.gpu_w + f64::from(ask.cores) * self.core_w
    }

    /// Why adding `add_w` to `node` (predicted `node_w` now, the cluster `cluster_w`) must wait,
    /// or `None` when both budgets allow it.
    pub fn refusal(&self, node: &str, node_w: f64, cluster_w: f64, add_w: f64) -> Option<String> {
        if let Some(&budget) = self.node_w.get(node)
            && node_w + add_w > budget
        {
            return Some(format!(
                "waiting for the power budget of node {node}: {:.0} W predicted with this request, budget {budget:.0} W",
                node_w + add_w
            ));
        }
        match self.cluster_w {
            Some(budget) if cluster_w + add_w > budget => Some(format!(
                "waiting for the cluster power budget: {:.0} W predicted with this request, budget {budget:.0} W",
                cluster_w + add_w
            )),
            _ => None,
        }
    }
}

impl Scheduler {
    /// Why starting `idx` with `ask` on node `n` must wait for a power budget, if it must.
    pub(super) fn over_power_budget(&self, n: u32, ask: &Ask) -> Option<String> {
        let budget = self.config.power_budget.as_ref()?;
        // From each node's running list, not every record ever kept: ended work stays in `allocs`.
        let node_w: Vec<f64> = self
            .state
            .nodes
            .iter()
            .map(|node| {
                let busy: f64 = node
                    .running
                    .iter()
                    .map(|&i| {
                        let a = &self.state.allocs[i as usize];
                        budget.gpu_w * a.gpus.len() as f64 + budget.core_w * f64::from(a.cores)
                    })
                    .sum();
                if node.takes_work() || busy > 0.0 { busy + budget.node_idle_w } else { busy }
            })
            .collect();
        let cluster_w = node_w.iter().sum();
        budget.refusal(&self.state.nodes[n as usize].res.node, node_w[n as usize], cluster_w, budget.ask_w(ask))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_names_the_budget_that_binds() {
        let b = PowerBudget {
            node_w: BTreeMap::from([("a".to_string(), 1000.0)]),
            cluster_w: Some(1500.0),
            node_idle_w: 100.0,
            gpu_w: 300.0,
            core_w: 5.0,
        };
        let ask = Ask { gpus: 2, gpu_share: None, cores: 4, mem: 0 };
        assert_eq!(b.ask_w(&ask), 620.0);
        assert!(b.refusal("a", 500.0, 500.0, 620.0).unwrap().contains("node a: 1120 W"));
        assert!(b.refusal("b", 500.0, 1000.0, 620.0).unwrap().contains("cluster power budget: 1620 W"));
        assert_eq!(b.refusal("a", 300.0, 300.0, 620.0), None);
    }
}
