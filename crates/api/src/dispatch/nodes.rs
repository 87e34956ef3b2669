//! What the executor needs from the cluster: the nodes, their liveness and a client to each.
//! The cluster manager provides it; tests and benchmarks may provide their own.

use steward_agent::AgentClient;
use steward_core::alloc::NodeResources;

/// A node's liveness as the failure detector sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Up,
    /// Late heartbeats: keeps what it runs, gets nothing new.
    Suspect,
    /// Declared down (or its connection dropped): what it ran is retried elsewhere.
    Down,
    /// Finishes what it runs, gets nothing new.
    Draining,
}

impl Liveness {
    pub fn name(self) -> &'static str {
        match self {
            Liveness::Up => "up",
            Liveness::Suspect => "suspect",
            Liveness::Down => "down",
            Liveness::Draining => "draining",
        }
    }
}

#[derive(Clone)]
pub struct DispatchNode {
    /// The node's id; partitions, allocations and node statuses name it.
    pub id: String,
    pub liveness: Liveness,
    /// `None` while disconnected.
    pub client: Option<AgentClient>,
    /// Its capacity (the allocation engine places attempts on it).
    pub resources: NodeResources,
}

pub trait NodeSource: Send + Sync + 'static {
    fn dispatch_nodes(&self) -> Vec<DispatchNode>;
}

/// The executor's own connection to each node, on its runtime: calling through the cluster
/// manager's connections crossed runtimes (and threads) on every call and its answer. Redialled
/// when the cluster manager reconnects (new address, token or pin).
#[derive(Default)]
pub(crate) struct LocalClients(std::sync::Mutex<std::collections::HashMap<String, AgentClient>>);

impl LocalClients {
    /// `nodes` with each client swapped for its counterpart on the current runtime.
    pub(crate) fn localize(&self, mut nodes: Vec<DispatchNode>) -> Vec<DispatchNode> {
        let Ok(mut local) = self.0.lock() else { return nodes };
        local.retain(|id, _| nodes.iter().any(|n| &n.id == id && n.client.is_some()));
        for n in &mut nodes {
            let Some(theirs) = &n.client else { continue };
            let ours = match local.get(&n.id) {
                Some(c) if c.origin() == theirs.origin() => c.clone(),
                _ => {
                    let c = theirs.redial_here();
                    local.insert(n.id.clone(), c.clone());
                    c
                }
            };
            n.client = Some(ours);
        }
        nodes
    }
}

/// No nodes: dispatch waits until a cluster is attached.
pub struct NoNodes;

impl NodeSource for NoNodes {
    fn dispatch_nodes(&self) -> Vec<DispatchNode> {
        Vec::new()
    }
}

/// A fixed set of nodes whose liveness the owner updates (tests, benchmarks).
#[derive(Default)]
pub struct StaticNodes(pub std::sync::RwLock<Vec<DispatchNode>>);

impl NodeSource for StaticNodes {
    fn dispatch_nodes(&self) -> Vec<DispatchNode> {
        self.0.read().map(|n| n.clone()).unwrap_or_default()
    }
}

impl StaticNodes {
    pub fn set_liveness(&self, id: &str, liveness: Liveness) {
        if let Ok(mut nodes) = self.0.write() {
            nodes.iter_mut().filter(|n| n.id == id).for_each(|n| n.liveness = liveness);
        }
    }
}

/// The cluster manager's nodes (the default source): liveness from its failure detector,
/// capacity (cores, memory, GPUs, labels) from each agent's inventory and latest snapshot.
/// This machine takes no dispatched work unless it runs an agent that was added like any other
/// node.
pub(crate) struct ClusterNodes(pub std::sync::Weak<crate::service::Shared>);

impl NodeSource for ClusterNodes {
    fn dispatch_nodes(&self) -> Vec<DispatchNode> {
        use steward_core::cluster::NodeState;
        let Some(shared) = self.0.upgrade() else { return Vec::new() };
        shared
            .cluster
            .nodes_with_clients(crate::service::now_ms())
            .into_iter()
            .filter_map(|(view, client, resources)| {
                // GPUs, labels and accelerators by the same mapping as the local node's.
                let resources = resources?;
                let liveness = match view.state {
                    NodeState::Up => Liveness::Up,
                    NodeState::Suspect => Liveness::Suspect,
                    NodeState::Down => Liveness::Down,
                    NodeState::Draining => Liveness::Draining,
                };
                Some(DispatchNode { id: view.id, liveness, client, resources })
            })
            .collect()
    }
}
