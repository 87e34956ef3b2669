//! Tasks an agent runs for this control center without a running attempt here: left by a
//! crash between a new execution's first start orders and its write (the two go out together),
//! or attempts declared lost whose node came back. Each node is swept when it is seen up.

use std::sync::Arc;

use steward_agent::AgentClient;
use steward_agent::proto::TaskStatus;
use steward_agent::tasks::is_terminal;
use steward_core::dispatch::AttemptState;

use super::Dispatcher;

/// The ids among `tasks` that `owner` started and that still run there, whose attempt here is
/// unknown, lost or cancelled (`state_of`). One that ended here meanwhile is no orphan: the
/// listing predates its end, which this control center heard of from the agent itself.
pub(crate) fn orphans(
    tasks: &[TaskStatus],
    owner: &str,
    state_of: impl Fn(&str) -> Option<AttemptState>,
) -> Vec<String> {
    let orphan = |t: &&TaskStatus| {
        let here = state_of(&t.task_id);
        !owner.is_empty()
            && t.owner == owner
            && !is_terminal(t.state)
            && !matches!(here, Some(AttemptState::Running | AttemptState::Succeeded | AttemptState::Failed))
    };
    tasks.iter().filter(orphan).map(|t| t.task_id.clone()).collect()
}

/// Cancels the orphans `node` runs for this control center.
pub(crate) async fn sweep(d: Arc<Dispatcher>, node: String, client: AgentClient) {
    let tasks = match client.list_tasks().await {
        Ok(t) => t,
        Err(e) => return tracing::debug!("listing the tasks of {node}: {e}"),
    };
    let found = {
        let Ok(st) = d.state.lock() else { return };
        orphans(&tasks, &d.owner, |id| st.attempt_state(id))
    };
    for id in found {
        match client.cancel_task(&id).await {
            Ok(_) => tracing::warn!(
                "cancelled task {id} on {node}: started by this control center, which has no running attempt for it (a crash before it was recorded, or an attempt lost with its node)"
            ),
            Err(e) => tracing::debug!("cancelling orphan {id} on {node}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use steward_agent::proto::{TaskState, TaskStatus};
    use steward_core::dispatch::AttemptState;

    fn task(id: &str, owner: &str, state: TaskState) -> TaskStatus {
        TaskStatus { task_id: id.into(), owner: owner.into(), state: state as i32, ..Default::default() }
    }

    #[test]
    fn only_own_running_tasks_unknown_lost_or_cancelled_here_are_orphans() {
        let tasks = [
            task("runs", "me", TaskState::Running),
            task("unknown", "me", TaskState::Running),
            task("pending", "me", TaskState::Pending),
            task("lost", "me", TaskState::Running),
            task("cancelled", "me", TaskState::Running),
            task("ended-since-listed", "me", TaskState::Running),
            task("ended", "me", TaskState::Succeeded),
            task("theirs", "other", TaskState::Running),
            task("untagged", "", TaskState::Running),
        ];
        let here = |id: &str| match id {
            "runs" => Some(AttemptState::Running),
            "lost" => Some(AttemptState::Lost),
            "cancelled" => Some(AttemptState::Cancelled),
            "ended-since-listed" => Some(AttemptState::Succeeded),
            _ => None,
        };
        assert_eq!(super::orphans(&tasks, "me", here), ["unknown", "pending", "lost", "cancelled"]);
        // A control center without an id claims nothing (not even untagged tasks).
        assert!(super::orphans(&tasks, "", |_| None).is_empty());
    }
}
