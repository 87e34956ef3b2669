//! The cluster (`crate::cluster`), as the front doors call it.

use steward_agent::AgentClient;
use tokio::sync::broadcast;

use super::Steward;
use crate::{AddNode, ApiError, NodeChange, NodeView, ProbeRequest, ProbeResult};

impl Steward {
    /// Every node: this machine (id `local`) first, then the added ones.
    pub fn nodes(&self) -> Vec<NodeView> {
        self.shared.cluster.all_views(self.inventory(), self.snapshot())
    }

    /// Connects to `address` over TLS and reports the certificate's fingerprint, trusting
    /// nothing yet: the user compares it with what `stewardd` printed. A plain-text agent on
    /// loopback is reported as such, with no fingerprint.
    pub async fn probe_node(&self, req: ProbeRequest) -> Result<ProbeResult, ApiError> {
        self.shared.cluster.probe_node(req).await
    }

    /// Adds a node after proving the token and the pinned certificate with a real call; a
    /// refusal (wrong token, other certificate, unreachable) is the error, and nothing is kept.
    pub async fn add_node(&self, req: AddNode) -> Result<NodeView, ApiError> {
        self.shared.cluster.add_node(req).await
    }

    /// Forgets a node: its link stops and it is not dialed again. Its tasks keep running there.
    pub async fn remove_node(&self, id: String) -> Result<(), ApiError> {
        self.shared.cluster.remove_node(id).await
    }

    /// Drains a node (no new work; running work finishes) or, with `draining = false`, takes
    /// it back.
    pub async fn drain_node(&self, id: String, draining: bool) -> Result<NodeView, ApiError> {
        if let Some(b) = &self.backend {
            return crate::backend::front::set_draining(b, id, draining).await;
        }
        self.shared.cluster.drain_node(id, draining).await
    }

    /// A connected client for node `id` (its address), for dispatching work; `None` while the
    /// node is not connected.
    pub fn agent(&self, id: &str) -> Option<AgentClient> {
        self.shared.cluster.agent(id)
    }

    /// Node state changes from now on.
    pub fn node_changes(&self) -> broadcast::Receiver<NodeChange> {
        self.shared.cluster.node_changes()
    }

    /// The runtime agent I/O runs on (clients made there keep working from any thread).
    pub fn cluster_runtime(&self) -> tokio::runtime::Handle {
        self.shared.cluster.runtime_handle()
    }
}
