//! At start: every leased change still in effect was made by a control center that died while
//! it was applied, so it is set back. This machine's at once; a remote node's once it is
//! connected (retried until it is, or until it is removed).

use std::time::Duration;

use steward_core::power::{ChangeState, JournalEntry};

use crate::service::WeakSteward;
use crate::{ApiError, Steward};

const RETRY: Duration = Duration::from_millis(500);

pub(crate) fn spawn_restore(steward: &Steward) {
    let weak = steward.downgrade();
    steward.cluster_runtime().spawn(async move {
        let Some(s) = weak.upgrade() else { return };
        let leased = match s.with_store(|store| Ok(store.leased_changes_in_effect()?)).await {
            Ok(v) => v,
            Err(e) => return tracing::warn!("cannot read the power journal to restore leased changes: {e}"),
        };
        drop(s);
        // Newest first, as a rollback.
        for entry in leased.into_iter().rev() {
            restore_one(&weak, entry).await;
        }
    });
}

async fn restore_one(weak: &WeakSteward, entry: JournalEntry) {
    loop {
        let Some(s): Option<Steward> = weak.upgrade() else { return };
        let detail = "restored at start: the control center that made it stopped while it was applied".to_string();
        match s.undo_change(entry.clone(), ChangeState::Restored, detail).await {
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
        drop(s);
        tokio::time::sleep(RETRY).await;
    }
}
