//! Modules registered on agents: one follower per connected node reads its `WatchModules`
//! stream into the registry (the node's id as the module's node), and directives for those
//! modules go to the agent. A follower whose stream breaks (the agent was killed, the link
//! dropped) marks the node's modules lost at once; the agent's replay after a reconnect
//! (`IN_SYNC`) marks lost those it no longer has and gets the unacknowledged directives again.

use std::collections::BTreeMap;
use std::sync::Weak;
use std::time::Duration;

use steward_agent::AgentClient;
use steward_agent::proto::ModuleEvent;
use steward_agent::proto::module_event::Kind;
use steward_core::cluster::NodeHealth;
use steward_core::module_status::ModuleState;
use steward_core::registration::DirectiveOrder;
use tokio::task::JoinHandle;

use crate::ApiError;
use crate::clock::now_ms;
use crate::service::Shared;

/// How often the node list is checked for links that came up or went away.
const CHECK_EVERY: Duration = Duration::from_millis(200);

/// Keeps one follower per node that has a live client.
pub(crate) async fn follow(shared: Weak<Shared>) {
    let mut followers: BTreeMap<String, (u64, JoinHandle<()>)> = BTreeMap::new();
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        let Some(s) = shared.upgrade() else { return };
        if s.is_stopping() {
            return;
        }
        let mut live = BTreeMap::new();
        for (view, client, _) in s.cluster.nodes_with_clients(now_ms()) {
            if let (NodeHealth::Up | NodeHealth::Suspect, Some(client)) = (view.state, client) {
                live.insert(view.id, client);
            }
        }
        followers.retain(|node, (origin, task)| {
            let keep = live.get(node).is_some_and(|c| c.origin() == *origin) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for (node, client) in live {
            if let std::collections::btree_map::Entry::Vacant(slot) = followers.entry(node.clone()) {
                let task = tokio::spawn(follow_node(shared.clone(), node, client.clone()));
                slot.insert((client.origin(), task));
            }
        }
        // Nodes without a follower now have lost their modules (down, removed, reconnecting).
        let mut gone: Vec<String> = s
            .modules
            .list(now_ms())
            .into_iter()
            .filter(|m| m.state == ModuleState::Active && m.node != crate::cluster::LOCAL_NODE)
            .map(|m| m.node)
            .filter(|n| !followers.contains_key(n))
            .collect();
        gone.dedup();
        for node in gone {
            apply(&shared, move |s, store| {
                s.modules.node_lost(store, &node, &[], &format!("node {node} is not connected"))?;
                Ok(())
            })
            .await;
        }
    }
}

async fn follow_node(shared: Weak<Shared>, node: String, client: AgentClient) {
    let why = match client.watch_modules().await {
        Ok(mut stream) => loop {
            match stream.message().await {
                Ok(Some(event)) => on_event(&shared, &node, &client, event).await,
                Ok(None) => break "the agent ended its module stream".to_string(),
                Err(status) => break format!("the agent's module stream broke: {}", status.message()),
            }
        },
        Err(e) => e.to_string(),
    };
    let reason = format!("node {node} lost: {why}");
    apply(&shared, move |s, store| s.modules.node_lost(store, &node, &[], &reason).map(|_| ())).await;
}

async fn on_event(shared: &Weak<Shared>, node: &str, client: &AgentClient, event: ModuleEvent) {
    let (node, module) = (node.to_string(), event.module.clone());
    let now = now_ms();
    let applied = match Kind::try_from(event.kind) {
        Ok(Kind::Registered) => {
            let reg = decode(&event.json);
            apply(shared, move |s, store| s.modules.register(store, &node, reg?, now).map(|_| ())).await
        }
        Ok(Kind::Reported) => {
            let report = decode(&event.json);
            apply(shared, move |s, store| s.modules.report(store, &node, &module, report?, now)).await
        }
        Ok(Kind::Acked) => {
            let (ack, id) = (decode(&event.json), event.directive_id);
            apply(shared, move |s, store| s.modules.ack(store, &node, &module, id, ack?, now)).await
        }
        Ok(Kind::Deregistered) => apply(shared, move |s, store| s.modules.deregister(store, &node, &module)).await,
        Ok(Kind::InSync) => {
            let names: Result<Vec<String>, _> = decode(&event.json);
            let n = node.clone();
            let unacked = apply(shared, move |s, store| {
                let why = format!("no longer registered on node {n} (its agent restarted)");
                s.modules.node_lost(store, &n, &names?, &why)?;
                Ok(s.modules.unacked_on(&n))
            })
            .await;
            for (module, order) in unacked.unwrap_or_default() {
                send(client, &node, &module, &order).await;
            }
            Some(())
        }
        Err(_) => None,
    };
    if applied.is_none() {
        tracing::debug!(module = %event.module, "a module event from the agent was not applied");
    }
}

fn decode<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(json).map_err(|e| ApiError::InvalidInput(format!("module event from an agent: {e}")))
}

/// Runs a registry change on the blocking pool (it writes to SQLite); `None` when it failed.
async fn apply<T: Send + 'static>(
    shared: &Weak<Shared>,
    f: impl FnOnce(&Shared, &mut steward_store::Store) -> Result<T, ApiError> + Send + 'static,
) -> Option<T> {
    let shared = shared.clone();
    let run = tokio::task::spawn_blocking(move || {
        let s = shared.upgrade().ok_or_else(|| ApiError::Internal("stopping".into()))?;
        let mut store = s.lock_store()?;
        f(&s, &mut store)
    });
    match run.await {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            tracing::debug!("module event: {e}");
            None
        }
        Err(_) => None,
    }
}

/// Sends a directive to the agent of `node` without waiting; a node that is not connected
/// gets it again when it reconnects (`IN_SYNC`).
pub(crate) fn forward(shared: &Shared, node: &str, module: &str, order: DirectiveOrder) {
    let Some(client) = shared
        .cluster
        .nodes_with_clients(now_ms())
        .into_iter()
        .find_map(|(v, c, _)| (v.id == node).then_some(c).flatten())
    else {
        return;
    };
    let (node, module) = (node.to_string(), module.to_string());
    shared.cluster.handle().spawn(async move { send(&client, &node, &module, &order).await });
}

async fn send(client: &AgentClient, node: &str, module: &str, order: &DirectiveOrder) {
    if let Err(e) = client.direct_module(module, order).await {
        tracing::warn!(node, module, id = order.id, "directive not delivered (sent again on reconnect): {e}");
    }
}
