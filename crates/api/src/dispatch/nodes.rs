//! What the executor needs from the cluster: the nodes, their liveness and a client to each.
//! The cluster manager provides it; tests and benchmarks may provide their own.

use std::collections::{HashMap, HashSet};

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

    /// The nodes that cannot take work now, and why; by default from their liveness.
    fn unready(&self) -> Vec<Unready> {
        self.dispatch_nodes().iter().filter(|n| !n.takes_work()).map(Unready::of).collect()
    }
}

impl DispatchNode {
    /// Up and connected: new work may go there.
    pub fn takes_work(&self) -> bool {
        self.liveness == Liveness::Up && self.client.is_some()
    }
}

/// The nodes of one pass, by id: a scan per lookup made a pass quadratic in the cluster's size.
pub(crate) struct NodesById {
    list: Vec<DispatchNode>,
    by_id: HashMap<String, usize>,
}

impl NodesById {
    pub(crate) fn new(list: Vec<DispatchNode>) -> NodesById {
        let mut by_id = HashMap::with_capacity(list.len());
        for (i, n) in list.iter().enumerate() {
            by_id.entry(n.id.clone()).or_insert(i);
        }
        NodesById { list, by_id }
    }

    pub(crate) fn list(&self) -> &[DispatchNode] {
        &self.list
    }

    pub(crate) fn get(&self, id: &str) -> Option<&DispatchNode> {
        self.by_id.get(id).map(|&i| &self.list[i])
    }

    /// The connection to node `id`; `None` while it is not connected (or unknown).
    pub(crate) fn client(&self, id: &str) -> Option<AgentClient> {
        self.get(id).and_then(|n| n.client.clone())
    }
}

/// A node that takes no work now.
#[derive(Debug, Clone, PartialEq)]
pub struct Unready {
    /// Its address (or id).
    pub name: String,
    /// `down`, `draining`, or what refused it (`the agent at … presented certificate …`).
    pub why: String,
    /// It may take work without anyone acting (connecting, late heartbeats); a node down with
    /// an error (a refused pin or token, an unreachable address) or draining waits for someone.
    pub coming: bool,
}

impl Unready {
    fn of(n: &DispatchNode) -> Unready {
        let why = if n.client.is_none() {
            format!("{} (not connected)", n.liveness.name())
        } else {
            n.liveness.name().into()
        };
        Unready { name: n.id.clone(), why, coming: n.liveness == Liveness::Suspect }
    }
}

/// Why no work can start: `None` while some node takes work; otherwise the reason and whether
/// a node may still come (a request that cannot wait for one is refused when none may).
pub fn no_node_accepts_work(nodes: &[DispatchNode], unready: &[Unready]) -> Option<(String, bool)> {
    if nodes.iter().any(DispatchNode::takes_work) {
        return None;
    }
    if unready.is_empty() {
        return Some(("no node accepts work: no node is added (stewardctl node add)".into(), false));
    }
    let each: Vec<String> = unready.iter().map(|u| format!("{} {}", u.name, u.why)).collect();
    Some((format!("no node accepts work: {}", each.join("; ")), unready.iter().any(|u| u.coming)))
}

/// Connections to each node on each runtime that runs passes: the executor's, and a
/// submitter's that ran one itself. Calling through a connection whose tasks live on another
/// runtime costs a thread hand-off each way on every call. Redialled when the cluster manager
/// reconnects (new address, token or pin).
#[derive(Default)]
pub(crate) struct LocalClients(std::sync::Mutex<Local>);

#[derive(Default)]
struct Local {
    clients: HashMap<(tokio::runtime::Id, String), AgentClient>,
    /// Runtimes with connections, least recently used first: a runtime that stopped cannot be
    /// told from one that is quiet, so the oldest are dropped beyond a few.
    runtimes: Vec<tokio::runtime::Id>,
}

/// Runtimes whose connections are kept.
const MAX_RUNTIMES: usize = 4;

impl LocalClients {
    /// `nodes` with each client swapped for its counterpart on the current runtime (unchanged
    /// outside one).
    pub(crate) fn localize(&self, mut nodes: Vec<DispatchNode>) -> Vec<DispatchNode> {
        let (Ok(rt), Ok(mut local)) = (tokio::runtime::Handle::try_current(), self.0.lock()) else { return nodes };
        local.use_runtime(rt.id());
        let connected: HashSet<&str> = nodes.iter().filter(|n| n.client.is_some()).map(|n| n.id.as_str()).collect();
        local.clients.retain(|(_, node), _| connected.contains(node.as_str()));
        for n in &mut nodes {
            if let Some(theirs) = &n.client {
                n.client = Some(local.client(&rt, &n.id, theirs));
            }
        }
        nodes
    }

    /// Node `node`'s connection on the runtime `rt`, dialled like `theirs` (any connection to it).
    pub(crate) fn client_on(&self, rt: &tokio::runtime::Handle, node: &str, theirs: &AgentClient) -> AgentClient {
        match self.0.lock() {
            Ok(mut local) => local.client(rt, node, theirs),
            Err(_) => theirs.clone(),
        }
    }
}

impl Local {
    fn client(&mut self, rt: &tokio::runtime::Handle, node: &str, theirs: &AgentClient) -> AgentClient {
        let key = (rt.id(), node.to_string());
        match self.clients.get(&key) {
            Some(c) if c.origin() == theirs.origin() => c.clone(),
            _ => {
                // Its connection's tasks go to `rt`.
                let _on = rt.enter();
                let c = theirs.redial_here();
                self.clients.insert(key, c.clone());
                c
            }
        }
    }

    fn use_runtime(&mut self, id: tokio::runtime::Id) {
        self.runtimes.retain(|r| *r != id);
        self.runtimes.push(id);
        if self.runtimes.len() > MAX_RUNTIMES {
            let gone = self.runtimes.remove(0);
            self.clients.retain(|(rt, _), _| *rt != gone);
        }
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
pub(crate) struct ClusterNodes(pub std::sync::Arc<crate::cluster::Cluster>);

impl NodeSource for ClusterNodes {
    fn dispatch_nodes(&self) -> Vec<DispatchNode> {
        use steward_core::cluster::NodeHealth;
        self.0
            .nodes_with_clients(crate::clock::now_ms())
            .into_iter()
            .filter_map(|(view, client, resources)| {
                // GPUs, labels and accelerators by the same mapping as the local node's.
                let resources = resources?;
                let liveness = match view.state {
                    NodeHealth::Up => Liveness::Up,
                    NodeHealth::Suspect => Liveness::Suspect,
                    NodeHealth::Down => Liveness::Down,
                    NodeHealth::Draining => Liveness::Draining,
                };
                Some(DispatchNode { id: view.id, liveness, client, resources })
            })
            .collect()
    }

    /// With the cluster's own reasons: the error that keeps a node down (a refused pin or
    /// token, an unreachable address), or that it is still connecting.
    fn unready(&self) -> Vec<Unready> {
        use steward_core::cluster::NodeHealth;
        self.0
            .nodes_with_clients(crate::clock::now_ms())
            .into_iter()
            .filter(|(view, client, resources)| {
                !(view.state == NodeHealth::Up && client.is_some() && resources.is_some())
            })
            .map(|(view, _, _)| {
                // Down with no error yet: still dialling for the first time.
                let connecting = view.error.is_none() && view.state == NodeHealth::Down;
                let why = match (&view.error, view.state) {
                    (Some(e), _) => format!("down ({e})"),
                    (None, NodeHealth::Down) => "connecting".into(),
                    (None, NodeHealth::Up) => "connecting (no snapshot yet)".into(),
                    (None, state) => format!("{state:?}").to_lowercase(),
                };
                let coming = connecting || matches!(view.state, NodeHealth::Suspect | NodeHealth::Up);
                Unready { name: view.address, why, coming }
            })
            .collect()
    }
}
