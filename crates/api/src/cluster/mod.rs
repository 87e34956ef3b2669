//! The cluster manager: nodes the user added by address + token + fingerprint (persisted),
//! one link per node that dials its agent with backoff and feeds the phi-accrual detector from
//! the metrics stream, and the node states derived from it (a dropped connection is down at
//! once). Agent I/O runs on the cluster's own small runtime, so it works under either front
//! door and outlives no one: dropping the service stops it.
//!
//! The executor reaches agents through `Steward::agent` and follows state changes through
//! `Steward::node_changes`. A node's allocatable resources join the allocation engine
//! once its inventory and first snapshot have arrived, and its state changes and removal re-sync
//! the engine (`allocation::sync_nodes`). Snapshots go to history under `node.<id>.`
//! (`history.rs`).

mod history;
mod identity;
mod link;
mod node;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use steward_agent::AgentClient;
use steward_core::alloc::NodeResources;
use steward_core::cluster::{NodeHealth, NodeRecord, NodeView, PhiConfig};
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::ApiError;
use crate::clock::now_ms;
use crate::service::Steward;
use node::Node;

/// How often suspicion is re-evaluated between heartbeats.
/// The id of this machine, the control center's own node, everywhere a node is named: the
/// cluster view, the allocation engine (`constraints.node`, reservations, GPU ids `local/gpu0`).
pub(crate) const LOCAL_NODE: &str = "local";

const EVALUATE_EVERY: Duration = Duration::from_millis(100);
const IDLE_EVALUATE_EVERY: Duration = Duration::from_secs(30);
/// Adding a node waits this long for the agent to answer.
const ADD_TIMEOUT: Duration = Duration::from_secs(6);

/// `POST /api/nodes`.
#[derive(Debug, Clone, Deserialize, Serialize, TS)]
#[ts(export)]
pub struct AddNode {
    pub address: String,
    pub token: String,
    /// The fingerprint the user confirmed (from the probe, checked against what stewardd
    /// printed); omit only for a plain-text agent on loopback.
    #[serde(default)]
    #[ts(optional)]
    pub fingerprint: Option<String>,
}

/// `POST /api/nodes/probe`: the certificate an agent presents, before anything is trusted.
#[derive(Debug, Clone, Deserialize, Serialize, TS)]
#[ts(export)]
pub struct ProbeRequest {
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProbeResult {
    pub address: String,
    /// The certificate's fingerprint; empty for a plain-text agent.
    pub fingerprint: String,
    /// A plain-text agent (`stewardd --no-tls`, loopback only): nothing to pin, it is added
    /// with `fingerprint: ""`.
    #[serde(default)]
    pub plain_text: bool,
}

/// A node's state changed (or it was removed). The executor reschedules on `Down`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeChange {
    pub id: String,
    pub state: NodeHealth,
    pub at_ms: i64,
    pub removed: bool,
}

pub(crate) struct Cluster {
    inner: Arc<Inner>,
    runtime: Option<tokio::runtime::Runtime>,
}

pub(crate) struct Inner {
    nodes: Mutex<BTreeMap<String, Arc<Node>>>,
    changes: broadcast::Sender<NodeChange>,
    phi: PhiConfig,
    resources_epoch: AtomicU64,
    /// Remote snapshots waiting for the sampling loop's next history write.
    pub(crate) history: history::Pending,
    /// Wakes the failure detector's evaluation, which sleeps while there is no node.
    added: tokio::sync::Notify,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // May run on an async thread (the last `Steward` dropped in a handler or test).
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Cluster {
    /// Starts a link for every stored node.
    pub(crate) fn start(records: Vec<NodeRecord>) -> Result<Cluster, ApiError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("steward-cluster")
            .enable_all()
            .build()
            .map_err(|e| ApiError::Internal(format!("cannot start the cluster runtime: {e}")))?;
        let (changes, _) = broadcast::channel(1024);
        let inner = Arc::new(Inner {
            nodes: Mutex::new(BTreeMap::new()),
            changes,
            phi: PhiConfig::default(),
            resources_epoch: AtomicU64::new(0),
            history: history::Pending::default(),
            added: tokio::sync::Notify::new(),
        });
        for record in records {
            inner.insert(runtime.handle(), record);
        }
        runtime.spawn(evaluate(Arc::downgrade(&inner)));
        Ok(Cluster { inner, runtime: Some(runtime) })
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.as_ref().expect("the runtime lives as long as the cluster").handle()
    }

    /// Every added node's view and client: what the executor (dispatch) places work on.
    /// Each with its allocatable resources once known (`Node::resources`).
    pub(crate) fn nodes_with_clients(
        &self,
        now_ms: i64,
    ) -> Vec<(NodeView, Option<AgentClient>, Option<NodeResources>)> {
        self.inner.lock().values().map(|n| (n.view(now_ms), n.client(), n.resources())).collect()
    }

    /// Bumped whenever a node's allocatable resources become known, its state changes or it is
    /// removed: the allocation engine looks at the nodes again only then.
    pub(crate) fn resources_epoch(&self) -> u64 {
        self.inner.resources_epoch.load(Ordering::Acquire)
    }

    /// Remote nodes' snapshots received since the last call, named under `node.<id>.`: the
    /// sampling loop writes them with its own batch.
    pub(crate) fn take_history(&self) -> Vec<(i64, Vec<steward_core::series::SeriesValue>)> {
        self.inner.history.take()
    }

    /// How often a remote node's snapshot joins history: the local sampler's interval.
    pub(crate) fn set_history_interval(&self, ms: i64) {
        self.inner.history.set_interval(ms);
    }

    /// Every node: its id, state, and allocatable resources once known.
    pub(crate) fn node_states(&self) -> Vec<(String, NodeHealth, Option<NodeResources>)> {
        self.inner.lock().values().map(|n| (n.id(), n.state(), n.resources())).collect()
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<Node>>> {
        self.nodes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn insert(self: &Arc<Self>, rt: &tokio::runtime::Handle, record: NodeRecord) -> Arc<Node> {
        let node = Arc::new(Node::new(record, self.phi.clone()));
        let task = rt.spawn(link::run(Arc::downgrade(self), node.clone()));
        node.set_task(task.abort_handle());
        self.lock().insert(node.id(), node.clone());
        self.added.notify_one();
        node
    }

    pub(crate) fn resources_changed(&self) {
        self.resources_epoch.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn publish(&self, change: NodeChange) {
        self.resources_changed();
        let _ = self.changes.send(change);
    }
}

/// Re-derives every node's state from phi now; heartbeats alone cannot notice silence.
async fn evaluate(inner: std::sync::Weak<Inner>) {
    let mut tick = tokio::time::interval(EVALUATE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let nodes: Vec<_> = inner.lock().values().cloned().collect();
        if nodes.is_empty() {
            // No node to watch: sleep until one is added (with a slow fallback).
            let _ = tokio::time::timeout(IDLE_EVALUATE_EVERY, inner.added.notified()).await;
            continue;
        }
        for n in nodes {
            n.refresh(&inner, now_ms());
        }
    }
}

fn normalize_address(address: &str) -> Result<String, ApiError> {
    let a = address.trim();
    let ok =
        a.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !ok || a.contains('/') || a.contains(char::is_whitespace) {
        return Err(ApiError::InvalidInput(format!("address {address:?}: expected host:port, e.g. 192.168.1.20:7879")));
    }
    Ok(a.to_string())
}

impl Steward {
    /// Every node: this machine (id `local`) first, then the added ones.
    pub fn nodes(&self) -> Vec<NodeView> {
        let latest = self.snapshot();
        let inventory = self.inventory();
        let local = NodeView {
            id: LOCAL_NODE.into(),
            address: LOCAL_NODE.into(),
            name: inventory.hostname.clone(),
            state: NodeHealth::Up,
            phi: None,
            last_heartbeat_ms: latest.as_ref().map(|s| s.ts_ms),
            error: None,
            fingerprint: None,
            limits_mechanism: None,
            inventory: Some(inventory),
            latest: latest.map(|s| (*s).clone()),
        };
        let cluster = &self.shared.cluster.inner;
        let now = now_ms();
        let mut all = vec![local];
        all.extend(cluster.lock().values().map(|n| n.view(now)));
        all
    }

    /// Connects to `address` over TLS and reports the certificate's fingerprint, trusting
    /// nothing yet: the user compares it with what `stewardd` printed. A plain-text agent on
    /// loopback is reported as such, with no fingerprint.
    pub async fn probe_node(&self, req: ProbeRequest) -> Result<ProbeResult, ApiError> {
        let address = normalize_address(&req.address)?;
        let a = address.clone();
        let found = self
            .on_cluster(async move { AgentClient::probe(&a).await })
            .await?
            .map_err(|e| ApiError::InvalidInput(e.to_string()))?;
        Ok(ProbeResult { address, plain_text: found.is_none(), fingerprint: found.unwrap_or_default() })
    }

    /// Adds a node after proving the token and the pinned certificate with a real call; a
    /// refusal (wrong token, other certificate, unreachable) is the error, and nothing is kept.
    pub async fn add_node(&self, req: AddNode) -> Result<NodeView, ApiError> {
        let address = normalize_address(&req.address)?;
        if req.token.trim().is_empty() {
            return Err(ApiError::InvalidInput("token: required (stewardd prints it on first start)".into()));
        }
        let fingerprint = identity::canonical_fingerprint(req.fingerprint.as_deref())?;
        if self.shared.cluster.inner.lock().contains_key(&address) {
            return Err(ApiError::InvalidInput(format!("{address} is already in the cluster")));
        }
        let (a, t, f) = (address.clone(), req.token.trim().to_string(), fingerprint.clone());
        let node_id = self
            .on_cluster(async move {
                let check = async {
                    let client = AgentClient::connect(&a, &t, f.as_deref()).await?;
                    client.inventory().await
                };
                match tokio::time::timeout(ADD_TIMEOUT, check).await {
                    Ok(r) => r.map(|inventory| inventory.node_id).map_err(|e| e.to_string()),
                    Err(_) => Err(format!("the agent at {a} did not answer within {} s", ADD_TIMEOUT.as_secs())),
                }
            })
            .await?
            .map_err(ApiError::InvalidInput)?;
        let existing: Vec<NodeRecord> = self.shared.cluster.inner.lock().values().map(|n| n.record()).collect();
        if let Some(same) = identity::same_agent(&existing, &node_id, fingerprint.as_deref()) {
            return Err(identity::already_added(same, &address));
        }
        let record = NodeRecord {
            address: address.clone(),
            token: req.token.trim().to_string(),
            fingerprint,
            draining: false,
            added_ms: now_ms(),
            node_id: Some(node_id).filter(|id| !id.is_empty()),
        };
        let r = record.clone();
        self.with_store(move |store| Ok(store.put_node(&r)?)).await?;
        let cluster = &self.shared.cluster;
        let node = cluster.inner.insert(cluster.handle(), record);
        // The link dials again by itself; answer once it is up so the caller sees it live.
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while node.view(now_ms()).state == NodeHealth::Down && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(node.view(now_ms()))
    }

    /// Forgets a node: its link stops and it is not dialed again. Its tasks keep running there.
    pub async fn remove_node(&self, id: String) -> Result<(), ApiError> {
        let a = id.clone();
        if !self.with_store(move |store| Ok(store.delete_node(&a)?)).await?
            && !self.shared.cluster.inner.lock().contains_key(&id)
        {
            return Err(ApiError::NotFound(format!("no node {id:?}")));
        }
        if let Some(node) = self.shared.cluster.inner.lock().remove(&id) {
            node.stop();
        }
        self.shared.cluster.inner.publish(NodeChange { id, state: NodeHealth::Down, at_ms: now_ms(), removed: true });
        Ok(())
    }

    /// Drains a node (no new work; running work finishes) or, with `draining = false`, takes
    /// it back.
    pub async fn drain_node(&self, id: String, draining: bool) -> Result<NodeView, ApiError> {
        if id == LOCAL_NODE {
            return Err(ApiError::InvalidInput("the local node cannot be drained".into()));
        }
        let node = self
            .shared
            .cluster
            .inner
            .lock()
            .get(&id)
            .cloned()
            .ok_or_else(|| ApiError::NotFound(format!("no node {id:?}")))?;
        let a = id.clone();
        self.with_store(move |store| Ok(store.set_node_draining(&a, draining)?)).await?;
        node.set_draining(draining);
        node.refresh(&self.shared.cluster.inner, now_ms());
        Ok(node.view(now_ms()))
    }

    /// A connected client for node `id` (its address), for dispatching work; `None` while the
    /// node is not connected.
    pub fn agent(&self, id: &str) -> Option<AgentClient> {
        self.shared.cluster.inner.lock().get(id).and_then(|n| n.client())
    }

    /// Node state changes from now on.
    pub fn node_changes(&self) -> broadcast::Receiver<NodeChange> {
        self.shared.cluster.inner.changes.subscribe()
    }

    /// The runtime agent I/O runs on (clients made there keep working from any thread).
    pub fn cluster_runtime(&self) -> tokio::runtime::Handle {
        self.shared.cluster.handle().clone()
    }

    /// Runs `f` on the cluster runtime, where agent connections live.
    async fn on_cluster<T: Send + 'static>(&self, f: impl Future<Output = T> + Send + 'static) -> Result<T, ApiError> {
        self.shared.cluster.handle().spawn(f).await.map_err(|e| ApiError::Internal(format!("cluster task failed: {e}")))
    }
}
