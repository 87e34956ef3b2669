//! At start: every leased change still in effect was made by a control center that died while
//! it was applied, so it is set back. This machine's at once; a remote node's once it is
//! connected (retried until it is, or until it is removed). The task runs on the cluster
//! runtime and holds the manager weakly: it ends when the service stops.

use std::sync::{Arc, Weak};
use std::time::Duration;

use steward_core::power::{ChangeState, JournalEntry};

use super::PowerManager;
use crate::ApiError;

const RETRY: Duration = Duration::from_millis(500);

pub(crate) fn spawn_restore(power: &Arc<PowerManager>) {
    let weak = Arc::downgrade(power);
    power.cluster.runtime_handle().spawn(async move {
        let Some(p) = upgrade(&weak) else { return };
        let leased = match p.store.run(|store| Ok(store.leased_changes_in_effect()?)).await {
            Ok(v) => v,
            Err(e) => return tracing::warn!("cannot read the power journal to restore leased changes: {e}"),
        };
        drop(p);
        // Newest first, as a rollback.
        for entry in leased.into_iter().rev() {
            restore_one(&weak, entry).await;
        }
    });
}

/// The manager, unless the service stopped.
fn upgrade(weak: &Weak<PowerManager>) -> Option<Arc<PowerManager>> {
    weak.upgrade().filter(|p| !p.stop.is_raised())
}

async fn restore_one(weak: &Weak<PowerManager>, entry: JournalEntry) {
    loop {
        let Some(p) = upgrade(weak) else { return };
        let detail = "restored at start: the control center that made it stopped while it was applied".to_string();
        match p.undo_change(entry.clone(), ChangeState::Restored, detail).await {
            Ok(e) => {
                return tracing::info!(id = e.id, node = e.node, device = e.device, "restored a leased power change");
            }
            Err(ApiError::NotFound(_)) => {
                return tracing::warn!(
                    id = entry.id,
                    node = entry.node,
                    "leased power change on a removed node: not restored"
                );
            }
            Err(e) => tracing::debug!(id = entry.id, "restoring a leased power change: {e}; retrying"),
        }
        drop(p);
        tokio::time::sleep(RETRY).await;
    }
}
