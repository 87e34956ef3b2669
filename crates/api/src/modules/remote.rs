//! Modules registered on agents: one follower per connected node reads its `WatchModules`
//! stream into the registry (the node's id as the module's node), and directives for those
//! modules go to the agent. A node whose link is down (the agent was killed, the network
//! dropped) has its modules marked lost within a check, with the link's reason; the agent's
//! replay after a reconnect (`IN_SYNC`) marks lost those it no longer has and gets the
//! unacknowledged directives again.

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

use super::Modules;
use crate::ApiError;
use crate::clock::now_ms;

/// How often the node list is checked for links that came up or went away.
const CHECK_EVERY: Duration = Duration::from_millis(200);

/// Keeps one follower per node that has a live client.
pub(crate) async fn follow(shared: Weak<Modules>) {
    let mut followers: BTreeMap<String, (u64, JoinHandle<()>)> = BTreeMap::new();
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        let Some(s) = shared.upgrade() else { return };
        if s.stop.is_raised() {
            return;
        }
        let (mut live, mut down) = (BTreeMap::new(), BTreeMap::new());
        for (view, client, _) in s.cluster.nodes_with_clients(now_ms()) {
            match (view.state, client) {
                (NodeHealth::Up | NodeHealth::Suspect | NodeHealth::Draining, Some(client)) => {
                    live.insert(view.id, client);
                }
                (state, _) => {
                    let why = view.error.unwrap_or_else(|| "not connected".into());
                    down.insert(view.id.clone(), format!("node {} is {}: {why}", view.id, state.as_str()));
                }
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
        // A follower whose stream ended is started again while its node is up; modules of a
        // node without one (down, removed, reconnecting) are lost, with the link's reason.
        let mut gone: Vec<String> = s
            .registry
            .list(now_ms())
            .into_iter()
            .filter(|m| m.state == ModuleState::Active && m.node != crate::cluster::LOCAL_NODE)
            .map(|m| m.node)
            .filter(|n| !followers.contains_key(n))
            .collect();
        gone.dedup();
        for node in gone {
            let why = down.remove(&node).unwrap_or_else(|| format!("node {node} was removed"));
            apply(&shared, move |s, store| s.registry.node_lost(store, &node, &[], &why).map(|_| ())).await;
        }
    }
}

/// Applies one node's module events until its stream ends (the loop above decides what then).
async fn follow_node(shared: Weak<Modules>, node: String, client: AgentClient) {
    let ended = match client.watch_modules().await {
        Ok(mut stream) => loop {
            match stream.message().await {
                Ok(Some(event)) => on_event(&shared, &node, &client, event).await,
                Ok(None) => break "the agent ended its module stream".to_string(),
                Err(status) => break format!("the agent's module stream broke: {}", status.message()),
            }
        },
        Err(e) => e.to_string(),
    };
    tracing::debug!(node, "{ended}");
}

async fn on_event(shared: &Weak<Modules>, node: &str, client: &AgentClient, event: ModuleEvent) {
    let (node, module) = (node.to_string(), event.module.clone());
    let now = now_ms();
    let applied = match Kind::try_from(event.kind) {
        Ok(Kind::Registered) => {
            let reg = decode(&event.json);
            apply(shared, move |s, store| s.registry.register(store, &node, reg?, now).map(|_| ())).await
        }
        Ok(Kind::Reported) => {
            let report = decode(&event.json);
            apply(shared, move |s, store| s.registry.report(store, &node, &module, report?, now)).await
        }
        Ok(Kind::Acked) => {
            let (ack, id) = (decode(&event.json), event.directive_id);
            apply(shared, move |s, store| s.registry.ack(store, &node, &module, id, ack?, now)).await
        }
        Ok(Kind::Deregistered) => apply(shared, move |s, store| s.registry.deregister(store, &node, &module)).await,
        Ok(Kind::InSync) => {
            let names: Result<Vec<String>, _> = decode(&event.json);
            let n = node.clone();
            let unacked = apply(shared, move |s, store| {
                let why = format!("no longer registered on node {n} (its agent restarted)");
                s.registry.node_lost(store, &n, &names?, &why)?;
                Ok(s.registry.unacked_on(&n))
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
    shared: &Weak<Modules>,
    f: impl FnOnce(&Modules, &mut steward_store::Store) -> Result<T, ApiError> + Send + 'static,
) -> Option<T> {
    let shared = shared.clone();
    let run = tokio::task::spawn_blocking(move || {
        let s = shared.upgrade().ok_or_else(|| ApiError::Internal("stopping".into()))?;
        let mut store = s.store.lock()?;
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
pub(crate) fn forward(shared: &Modules, node: &str, module: &str, order: DirectiveOrder) {
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
