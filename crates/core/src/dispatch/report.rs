//! What the front doors show of an execution: the list view's summary, per-node statuses and
//! the monitor report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::execution::{AttemptState, ExecStatus, Execution, PartState};
use super::output::{OutputCut, OutputLimits};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PartitionSummary {
    pub index: u32,
    /// Node of the latest attempt.
    pub node: Option<String>,
    pub state: PartState,
    pub progress: f64,
    pub attempts: u32,
    pub straggler: bool,
    /// A speculative copy runs (or ran) for it.
    pub speculative: bool,
    pub log_tail: Vec<String>,
    pub error: Option<String>,
    /// Every attempt, oldest first: where it ran and how it ended.
    pub tries: Vec<AttemptBrief>,
    /// Where its output was cut (it wrote more than the task's output limits).
    pub output_cut: Option<OutputCut>,
    /// Why it is pending with nothing running (e.g. no node accepts work), filled in by the
    /// executor, which knows the nodes.
    pub waiting: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AttemptBrief {
    pub id: String,
    pub node: String,
    pub state: AttemptState,
    pub speculative: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ExecutionSummary {
    pub execution_id: String,
    pub task_id: String,
    pub status: ExecStatus,
    pub progress: f64,
    #[ts(type = "number")]
    pub created_ms: i64,
    #[ts(type = "number | null")]
    pub finished_ms: Option<i64>,
    pub error: Option<String>,
    pub partitions: Vec<PartitionSummary>,
    /// The output limits each partition runs with (the task's, or the executor's defaults).
    pub output_limits: Option<OutputLimits>,
}

/// One node's share of an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodeStatus {
    pub node: String,
    /// The cluster's view: up, suspect, down, draining (unknown if the node was removed).
    pub state: String,
    pub running: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub lost: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ExecutionReport {
    pub partitions: u32,
    pub succeeded: u32,
    pub running: u32,
    pub pending: u32,
    pub failed: u32,
    pub retries: u32,
    pub speculative_copies: u32,
    /// Late results ignored (from nodes declared down, or losing copies).
    pub discarded_results: u32,
    pub reused_from: Option<String>,
    #[ts(type = "number")]
    pub elapsed_ms: i64,
    /// Lines of output the partitions produced (the result, in partition order).
    #[ts(type = "number")]
    pub output_lines: u64,
    /// Partitions whose output was cut at the task's output limits (see each partition's cut).
    pub output_cut: u32,
    /// Why pending partitions wait with nothing running (e.g. no node accepts work).
    pub waiting: Option<String>,
    pub error: Option<String>,
}

impl Execution {
    pub fn summary(&self) -> ExecutionSummary {
        ExecutionSummary {
            execution_id: self.id.clone(),
            task_id: self.task_id.clone(),
            status: self.status,
            progress: self.progress(),
            created_ms: self.created_ms,
            finished_ms: self.finished_ms,
            error: self.error.clone(),
            output_limits: self.task.output,
            partitions: self
                .partitions
                .iter()
                .map(|p| PartitionSummary {
                    index: p.index,
                    node: p.node().map(str::to_string).or_else(|| p.planned_node.clone()),
                    state: p.state,
                    progress: if p.state == PartState::Succeeded { 1.0 } else { p.progress },
                    attempts: p.attempts.len() as u32,
                    straggler: p.straggler,
                    speculative: p.attempts.iter().any(|a| a.speculative),
                    log_tail: p.log_tail.clone(),
                    error: p.attempts.iter().rev().find_map(|a| a.error.clone()),
                    tries: p
                        .attempts
                        .iter()
                        .map(|a| AttemptBrief {
                            id: a.id.clone(),
                            node: a.node.clone(),
                            state: a.state,
                            speculative: a.speculative,
                        })
                        .collect(),
                    output_cut: p.output_cut,
                    waiting: None,
                })
                .collect(),
        }
    }

    /// Per node: its attempts by state, with the cluster's state for it.
    pub fn node_statuses(&self, cluster_state: impl Fn(&str) -> Option<String>) -> Vec<NodeStatus> {
        let mut by: BTreeMap<&str, NodeStatus> = BTreeMap::new();
        for a in self.partitions.iter().flat_map(|p| p.attempts.iter()) {
            let s = by.entry(a.node.as_str()).or_insert_with(|| NodeStatus {
                node: a.node.clone(),
                state: cluster_state(&a.node).unwrap_or_else(|| "unknown".into()),
                running: 0,
                succeeded: 0,
                failed: 0,
                lost: 0,
            });
            match a.state {
                AttemptState::Running => s.running += 1,
                AttemptState::Succeeded => s.succeeded += 1,
                AttemptState::Failed => s.failed += 1,
                AttemptState::Lost => s.lost += 1,
                AttemptState::Cancelled => {}
            }
        }
        by.into_values().collect()
    }

    pub fn stragglers(&self) -> Vec<u32> {
        self.partitions.iter().filter(|p| p.straggler).map(|p| p.index).collect()
    }

    pub fn report(&self, now_ms: i64) -> ExecutionReport {
        let count = |s: PartState| self.partitions.iter().filter(|p| p.state == s).count() as u32;
        ExecutionReport {
            partitions: self.partitions.len() as u32,
            succeeded: count(PartState::Succeeded),
            running: count(PartState::Running),
            pending: count(PartState::Pending),
            failed: count(PartState::Failed),
            retries: self.retries,
            speculative_copies: self.speculative_copies,
            discarded_results: self.discarded_results,
            reused_from: self.reused_from.clone(),
            elapsed_ms: self.finished_ms.unwrap_or(now_ms) - self.created_ms,
            output_lines: self.partitions.iter().map(|p| p.output.len() as u64).sum(),
            output_cut: self.partitions.iter().filter(|p| p.output_cut.is_some()).count() as u32,
            waiting: None,
            error: self.error.clone(),
        }
    }
}
