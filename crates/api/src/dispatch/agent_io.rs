//! Talking to agents for the executor: start orders as the node protocol's task specs, and
//! the watch stream turned into progress, checkpoints, output and a final outcome.

use steward_agent::proto::{self, RunTaskReply, TaskState, TaskStatus};
use steward_agent::{AgentClient, AgentError};
use steward_core::dispatch::{StartOrder, TaskKind, TaskSpec};

/// Lines a task prints to hand the control center a resume token (`STEWARD_RESUME` on retry).
pub(crate) const CHECKPOINT_PREFIX: &str = "STEWARD_CHECKPOINT ";
const PROGRESS_PREFIX: &str = "STEWARD_PROGRESS ";

/// The agent's spec of `order`, started on behalf of the control center `owner`.
pub(crate) fn proto_spec(order: &StartOrder, task: &TaskSpec, owner: &str) -> proto::TaskSpec {
    let mut env: std::collections::HashMap<String, String> = task.env.clone().into_iter().collect();
    if let Some(token) = &order.resume {
        env.insert("STEWARD_RESUME".into(), token.clone());
    }
    env.insert("STEWARD_PARTITION".into(), order.partition.to_string());
    env.insert("STEWARD_ATTEMPT".into(), order.attempt_id.clone());
    let (program, args) = match order.argv.split_first() {
        Some((p, a)) => (p.clone(), a.to_vec()),
        None => (String::new(), Vec::new()),
    };
    proto::TaskSpec {
        task_id: order.attempt_id.clone(),
        kind: match order.kind {
            TaskKind::Process => proto::TaskKind::Process as i32,
            TaskKind::Noop => proto::TaskKind::Noop as i32,
        },
        program,
        args,
        env,
        working_dir: task.working_dir.clone().unwrap_or_default(),
        limits: Some(proto::ResourceLimits {
            cpu_millis: task.cores * 1000,
            memory_bytes: task.memory_bytes,
            max_pids: 0,
        }),
        gpus: order.gpus.clone(),
        hide_gpus: task.gpus == 0,
        timeout_ms: task.timeout_s.unwrap_or(0) * 1000,
        // Same key for every attempt of a partition: a retry on the same node finds the checkpoint.
        checkpoint_key: format!("{}.p{}", order.execution_id, order.partition),
        checkpoint_dir: String::new(),
        wait: false,
        wait_ms: if order.kind == TaskKind::Process { SHORT_TASK_MS } else { 0 },
        owner: owner.to_string(),
    }
}

/// A process task that ends this soon is answered with its end and its lines in the start
/// call: no WatchTask stream for it (for short tasks, half the calls). Longer ones are watched
/// once the answer comes; in a batch the answer waits for every task this long at most.
const SHORT_TASK_MS: u32 = 50;

/// An attempt's end as the engine takes it: success, or failure with the reason.
pub(crate) fn outcome(status: &TaskStatus) -> Option<Result<(), String>> {
    let state = TaskState::try_from(status.state).unwrap_or(TaskState::Pending);
    match state {
        TaskState::Pending | TaskState::Running => None,
        TaskState::Succeeded => Some(Ok(())),
        // The agent's error names the cause (`killed by SIGKILL`, `timed out after 8 s`, ...).
        _ if !status.error.is_empty() && state != TaskState::Cancelled => Some(Err(status.error.clone())),
        TaskState::TimedOut => Some(Err("timed out".into())),
        TaskState::Cancelled => Some(Err(format!("cancelled on the agent{}", detail(status)))),
        TaskState::Failed if status.has_exit_code => Some(Err(format!("exited with status {}", status.exit_code))),
        TaskState::Failed => Some(Err("failed".into())),
    }
}

fn detail(s: &TaskStatus) -> String {
    if s.error.is_empty() || s.error == "cancelled" { String::new() } else { format!(": {}", s.error) }
}

/// What one watched line means.
pub(crate) enum Line<'a> {
    Output,
    Checkpoint(&'a str),
    Control,
    Stderr,
}

pub(crate) fn classify(text: &str, stderr: bool) -> Line<'_> {
    if stderr {
        Line::Stderr
    } else if let Some(t) = text.strip_prefix(CHECKPOINT_PREFIX) {
        Line::Checkpoint(t.trim())
    } else if text.starts_with(PROGRESS_PREFIX) {
        Line::Control
    } else {
        Line::Output
    }
}

/// Starts a group of orders on one node: one call for one order, one batch call for several.
pub(crate) async fn start(
    client: &AgentClient,
    specs: Vec<proto::TaskSpec>,
    batched: bool,
) -> Result<Vec<RunTaskReply>, AgentError> {
    if batched && specs.len() > 1 {
        client.run_tasks(specs).await
    } else {
        let mut out = Vec::with_capacity(specs.len());
        for s in specs {
            out.push(client.start_task(s).await?);
        }
        Ok(out)
    }
}
