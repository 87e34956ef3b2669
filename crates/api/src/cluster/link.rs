//! One node's link: dial, read the inventory, follow the metrics stream (every message is a
//! heartbeat), and on any failure mark the node down at once and dial again with backoff.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use steward_agent::{AgentClient, decode_snapshot};

use super::Inner;
use super::node::Node;
use crate::clock::now_ms;

const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A session that lasted this long was healthy: the next failure starts the backoff afresh.
const HEALTHY_SESSION: Duration = Duration::from_secs(10);
const SNAPSHOT_EVERY_MS: u32 = 1000;
const HEARTBEAT_EVERY_MS: u32 = 500;

pub(crate) async fn run(inner: Weak<Inner>, node: Arc<Node>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let started = Instant::now();
        let reason = session(&inner, &node).await;
        let Some(inner) = inner.upgrade() else { return };
        tracing::debug!(node = %node.id(), "link down: {reason}");
        node.disconnected(&inner, reason, now_ms());
        drop(inner);
        if started.elapsed() >= HEALTHY_SESSION {
            backoff = MIN_BACKOFF;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection, until it fails; returns why, in words for the user.
async fn session(inner: &Weak<Inner>, node: &Node) -> String {
    let record = node.record();
    let setup = async {
        let client = AgentClient::connect(&record.address, &record.token, record.fingerprint.as_deref()).await?;
        let inventory = client.inventory().await?;
        let stream = client.stream_metrics(SNAPSHOT_EVERY_MS, HEARTBEAT_EVERY_MS).await?;
        Ok::<_, steward_agent::AgentError>((client, inventory, stream))
    };
    let (client, inventory, mut stream) = match setup.await {
        Ok(x) => x,
        Err(e) => return e.to_string(),
    };
    match inner.upgrade() {
        Some(inner) => node.connected(&inner, client, inventory, now_ms()),
        None => return "stopping".into(),
    }
    loop {
        match stream.message().await {
            Ok(Some(event)) => {
                let snapshot = decode_snapshot(&event).and_then(Result::ok);
                if let (Some(s), Some(inner)) = (&snapshot, inner.upgrade()) {
                    inner.history.record(&record.address, now_ms(), s);
                }
                if node.heartbeat(now_ms(), snapshot)
                    && let Some(inner) = inner.upgrade()
                {
                    inner.resources_changed();
                }
            }
            Ok(None) => return "the agent closed the metrics stream".into(),
            Err(status) => {
                return format!("connection lost: {}", steward_agent::client::classify_status(&record.address, status));
            }
        }
    }
}
