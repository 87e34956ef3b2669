//! Tasks an agent runs for this control center without a running attempt here: left by a
//! crash between a new execution's first start orders and its write (the two go out together),
//! or attempts declared lost whose node came back. Each node is swept when it is seen up.

use std::sync::Arc;

use steward_agent::AgentClient;
use steward_agent::proto::TaskStatus;

use crate::service::Shared;

/// The ids among `tasks` that `owner` started, that still run, and that `runs` does not know.
pub(crate) fn orphans(tasks: &[TaskStatus], owner: &str, runs: impl Fn(&str) -> bool) -> Vec<String> {
    tasks
        .iter()
        .filter(|t| !owner.is_empty() && t.owner == owner && !steward_agent::tasks::is_terminal(t.state) && !runs(&t.task_id))
        .map(|t| t.task_id.clone())
        .collect()
}

/// Cancels the orphans `node` runs for this control center.
pub(crate) async fn sweep(shared: Arc<Shared>, node: String, client: AgentClient) {
    let tasks = match client.list_tasks().await {
        Ok(t) => t,
        Err(e) => return tracing::debug!("listing the tasks of {node}: {e}"),
    };
    let d = &shared.dispatch;
    let found = {
        let Ok(st) = d.state.lock() else { return };
        orphans(&tasks, &d.owner, |id| st.runs_attempt(id))
    };
    for id in found {
        match client.cancel_task(&id).await {
            Ok(_) => tracing::warn!("cancelled task {id} on {node}: started by this control center, which has no running attempt for it (a crash before it was recorded, or an attempt lost with its node)"),
            Err(e) => tracing::debug!("cancelling orphan {id} on {node}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use steward_agent::proto::{TaskState, TaskStatus};

    fn task(id: &str, owner: &str, state: TaskState) -> TaskStatus {
        TaskStatus { task_id: id.into(), owner: owner.into(), state: state as i32, ..Default::default() }
    }

    #[test]
    fn only_own_running_unknown_tasks_are_orphans() {
        let tasks = [
            task("known", "me", TaskState::Running),
            task("lost", "me", TaskState::Running),
            task("pending", "me", TaskState::Pending),
            task("ended", "me", TaskState::Succeeded),
            task("theirs", "other", TaskState::Running),
            task("untagged", "", TaskState::Running),
        ];
        assert_eq!(super::orphans(&tasks, "me", |id| id == "known"), ["lost", "pending"]);
        // A control center without an id claims nothing (not even untagged tasks).
        assert!(super::orphans(&tasks, "", |_| false).is_empty());
    }
}
