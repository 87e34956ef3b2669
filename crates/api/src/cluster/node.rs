//! One added node's live state: link status, failure detector, last inventory and snapshot.

use std::sync::Mutex;

use steward_agent::{AgentClient, AgentInventory};
use steward_core::Snapshot;
use steward_core::alloc::{NodeResources, node_from_telemetry};
use steward_core::cluster::{NodeHealth, NodeRecord, NodeView, PhiConfig, PhiDetector, node_state};
use tokio::task::AbortHandle;

use super::{Inner, NodeChange};

pub(crate) struct Node {
    record: Mutex<NodeRecord>,
    live: Mutex<Live>,
    task: Mutex<Option<AbortHandle>>,
}

struct Live {
    client: Option<AgentClient>,
    detector: PhiDetector,
    error: Option<String>,
    inventory: Option<AgentInventory>,
    latest: Option<Snapshot>,
    /// A snapshot arrived since the last connection (its first one announces the resources).
    fresh_snapshot: bool,
    state: NodeHealth,
}

impl Node {
    pub(crate) fn new(record: NodeRecord, phi: PhiConfig) -> Node {
        let live = Live {
            client: None,
            detector: PhiDetector::new(phi),
            error: None,
            inventory: None,
            latest: None,
            fresh_snapshot: false,
            state: NodeHealth::Down,
        };
        Node { record: Mutex::new(record), live: Mutex::new(live), task: Mutex::new(None) }
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn record(&self) -> NodeRecord {
        self.record.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub(crate) fn id(&self) -> String {
        self.record().address
    }

    pub(crate) fn set_task(&self, task: AbortHandle) {
        *self.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
    }

    pub(crate) fn stop(&self) {
        if let Some(t) = self.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            t.abort();
        }
    }

    pub(crate) fn set_draining(&self, draining: bool) {
        self.record.lock().unwrap_or_else(std::sync::PoisonError::into_inner).draining = draining;
    }

    pub(crate) fn client(&self) -> Option<AgentClient> {
        self.live().client.clone()
    }

    /// The link is up: the first heartbeat starts a fresh silence.
    pub(crate) fn connected(&self, inner: &Inner, client: AgentClient, inventory: AgentInventory, now_ms: i64) {
        {
            let mut l = self.live();
            l.client = Some(client);
            l.inventory = Some(inventory);
            l.fresh_snapshot = false;
            l.error = None;
            l.detector.reset_arrival();
            l.detector.heartbeat(now_ms);
        }
        self.refresh(inner, now_ms);
    }

    /// True when this heartbeat's snapshot is the first since the node (re)connected: its
    /// allocatable resources are known from then on.
    pub(crate) fn heartbeat(&self, now_ms: i64, snapshot: Option<Snapshot>) -> bool {
        let mut l = self.live();
        l.detector.heartbeat(now_ms);
        let first = snapshot.is_some() && !l.fresh_snapshot;
        if let Some(s) = snapshot {
            l.latest = Some(s);
            l.fresh_snapshot = true;
        }
        first
    }

    /// What the allocation engine may allocate here: the shared telemetry mapping over the
    /// agent's inventory, labels and latest snapshot. `None` until both first arrived, so the
    /// GPUs never come from a missing reading.
    pub(crate) fn resources(&self) -> Option<NodeResources> {
        let id = self.id();
        let l = self.live();
        let (inv, snap) = (l.inventory.as_ref()?, l.latest.as_ref()?);
        Some(node_from_telemetry(&id, &inv.inventory, &snap.gpus, inv.labels.clone()))
    }

    /// The link is down (or never came up): down at once, with the reason.
    pub(crate) fn disconnected(&self, inner: &Inner, reason: String, now_ms: i64) {
        {
            let mut l = self.live();
            l.client = None;
            l.error = Some(reason);
        }
        self.refresh(inner, now_ms);
    }

    /// Recomputes the state and announces a change.
    pub(crate) fn refresh(&self, inner: &Inner, now_ms: i64) {
        let draining = self.record().draining;
        let changed = {
            let mut l = self.live();
            let state = node_state(l.client.is_some(), l.detector.phi(now_ms), draining, l.detector.config());
            (state != l.state).then(|| {
                l.state = state;
                state
            })
        };
        if let Some(state) = changed {
            tracing::info!(node = %self.id(), state = state.as_str(), "node state changed");
            inner.publish(NodeChange { id: self.id(), state, at_ms: now_ms, removed: false });
        }
    }

    pub(crate) fn state(&self) -> NodeHealth {
        self.live().state
    }

    pub(crate) fn view(&self, now_ms: i64) -> NodeView {
        let record = self.record();
        let l = self.live();
        let inv = l.inventory.as_ref();
        NodeView {
            id: record.address.clone(),
            name: inv.map(|i| i.inventory.hostname.clone()).unwrap_or_else(|| record.address.clone()),
            address: record.address,
            state: l.state,
            phi: l.client.as_ref().and(l.detector.phi(now_ms)),
            last_heartbeat_ms: l.detector.last_heartbeat_ms(),
            error: l.error.clone(),
            fingerprint: record.fingerprint,
            limits_mechanism: inv.map(|i| i.limits_mechanism.clone()),
            inventory: inv.map(|i| i.inventory.clone()),
            latest: l.latest.clone(),
            engine: None,
        }
    }
}
