//! Making and undoing one journaled change: read the value in effect, journal the change
//! (`pending`), make it, record how it went. Undoing sets the previous value back.

use steward_core::power::{ChangeState, JournalEntry, Knob, PowerChange};
use steward_store::NewChange;
use steward_telemetry::power_control::ControlError;

use super::PowerManager;
use super::target::NodeTarget;
use crate::ApiError;
use crate::clock::now_ms;

/// One change to make, with where it belongs in the journal.
pub(crate) struct ChangeOrder<'a> {
    pub change: &'a PowerChange,
    pub plan_id: Option<&'a str>,
    pub who: &'a str,
    pub why: &'a str,
    pub leased: bool,
}

/// The value a rollback sets: the previous one, or for locked clocks (which NVML cannot read)
/// the driver's default.
pub(crate) fn restore_value(entry: &JournalEntry) -> Option<String> {
    entry.previous.clone().or_else(|| (entry.knob == Knob::GpuLockedClocks).then(|| "default".to_string()))
}

impl PowerManager {
    /// The value of `change`'s knob in effect now; 404 for a device or knob the node lacks.
    pub(crate) async fn current_value(
        &self,
        target: &NodeTarget,
        change: &PowerChange,
    ) -> Result<Option<String>, ApiError> {
        let devices = target.settings().await?;
        let device = devices
            .iter()
            .find(|d| d.device == change.device)
            .ok_or_else(|| ApiError::NotFound(format!("no device {:?} on node {}", change.device, change.node)))?;
        let knob = device.knob(change.knob).ok_or_else(|| {
            ApiError::NotFound(format!(
                "{} on node {} has no setting {}",
                change.device,
                change.node,
                change.knob.as_str()
            ))
        })?;
        Ok(knob.current.clone())
    }

    /// Journals and makes one change; the journal row as it ended. A refused value is a 400
    /// (journaled as failed); no permission is a `denied` row saying what it would do.
    pub(crate) async fn make_change(
        &self,
        target: &NodeTarget,
        order: ChangeOrder<'_>,
    ) -> Result<JournalEntry, ApiError> {
        let c = order.change;
        let previous = self.current_value(target, c).await?;
        let (node, device, new, who, why) =
            (c.node.clone(), c.device.clone(), c.value.clone(), order.who.to_string(), order.why.to_string());
        let (plan_id, knob, leased, prev) = (order.plan_id.map(str::to_string), c.knob, order.leased, previous.clone());
        let id = self
            .store
            .run(move |store| {
                let row = NewChange {
                    plan_id: plan_id.as_deref(),
                    node: &node,
                    device: &device,
                    knob,
                    previous: prev.as_deref(),
                    new: &new,
                    who: &who,
                    why: &why,
                    leased,
                };
                Ok(store.journal_change(&row, now_ms())?)
            })
            .await?;
        let result = target.set(&c.device, c.knob, &c.value, false).await;
        let (state, detail) = match &result {
            Ok(Ok(())) => (ChangeState::Applied, None),
            Ok(Err(e @ ControlError::Denied { .. })) => (ChangeState::Denied, Some(e.to_string())),
            Ok(Err(e)) => (ChangeState::Failed, Some(e.to_string())),
            Err(e) => (ChangeState::Failed, Some(e.to_string())),
        };
        let entry = self.settle_change(id, state, detail, None).await?;
        match result {
            Ok(Err(ControlError::Refused(m))) => Err(ApiError::InvalidInput(m)),
            Ok(Err(ControlError::Unavailable(m))) => Err(ApiError::NotFound(m)),
            Err(e) => Err(e),
            Ok(_) => Ok(entry),
        }
    }

    /// Moves a journal row to `state` and reads it back.
    pub(crate) async fn settle_change(
        &self,
        id: i64,
        state: ChangeState,
        detail: Option<String>,
        ended_ms: Option<i64>,
    ) -> Result<JournalEntry, ApiError> {
        self.store
            .run(move |store| {
                store.set_change_state(id, state, detail.as_deref(), ended_ms)?;
                store.power_change(id)?.ok_or_else(|| ApiError::Internal(format!("journal row {id} vanished")))
            })
            .await
    }

    /// Sets a change's previous value back and marks it `state` (rolled back or restored). A
    /// change that was never made (denied, failed) or already undone is answered as it is.
    pub(crate) async fn undo_change(
        &self,
        entry: JournalEntry,
        state: ChangeState,
        detail: String,
    ) -> Result<JournalEntry, ApiError> {
        if !entry.state.in_effect() {
            return Ok(entry);
        }
        let value = restore_value(&entry).ok_or_else(|| {
            ApiError::Conflict(format!(
                "change {} has no previous value to set back (the device could not report it)",
                entry.id
            ))
        })?;
        let target = self.power_target(&entry.node)?;
        match target.set(&entry.device, entry.knob, &value, false).await? {
            Ok(()) => self.settle_change(entry.id, state, Some(detail), Some(now_ms())).await,
            Err(e) => Err(ApiError::Conflict(format!("change {} could not be undone: {e}", entry.id))),
        }
    }
}
