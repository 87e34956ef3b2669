//! One execution of a task: its partitions, their attempts, and the fault-tolerance rules.
//!
//! The executor feeds it what happened (an attempt progressed, finished, failed; a node went
//! down) and calls [`Execution::tick`], which answers with [`Action`]s to carry out: start an
//! attempt on a node, cancel one. Every rule lives here, deterministic and with time passed in:
//! retry on another node with backoff (resuming from the last checkpoint), speculative copies
//! of stragglers (first result wins, the other is cancelled), results from nodes declared down
//! discarded, k replicas for critical tasks.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::balance::{Locality, NodeLoad, rank};
use super::output::{AttemptOutput, OutputCut, OutputLimits};
use super::placement::{Grant, PartitionAsk, Placer};
use super::straggler::{StragglerRule, backoff_ms, median};
use super::task::{PartitionInput, TaskKind, TaskSpec};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DispatchConfig {
    pub max_attempts: u32,
    pub backoff_base_ms: i64,
    pub backoff_max_ms: i64,
    pub straggler: StragglerRule,
    /// Partitions per task slot when the partitioner sizes a task.
    pub partitions_per_slot: u32,
    /// Output kept per partition as its result, unless the task sets its own limits (past
    /// them the output is cut, said so, and spilled whole to a file).
    pub max_output_lines: u64,
    pub max_output_bytes: u64,
    /// Typical partition time before any finished (ms), for the balancer's wait estimate.
    pub default_partition_ms: i64,
}

impl DispatchConfig {
    /// The output limits a task gets when it sets none (or only one).
    pub fn output_defaults(&self) -> OutputLimits {
        OutputLimits { max_lines: Some(self.max_output_lines), max_bytes: Some(self.max_output_bytes) }
    }
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            max_attempts: 5,
            backoff_base_ms: 250,
            backoff_max_ms: 10_000,
            straggler: StragglerRule::default(),
            partitions_per_slot: 8,
            max_output_lines: 100_000,
            max_output_bytes: 4 << 20,
            default_partition_ms: 1000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExecStatus {
    /// Lazy, or waiting for the tasks it depends on.
    Waiting,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl ExecStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, ExecStatus::Succeeded | ExecStatus::Failed | ExecStatus::Cancelled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PartState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AttemptState {
    Running,
    Succeeded,
    Failed,
    /// Its node was declared down (or the connection dropped): retried elsewhere.
    Lost,
    /// Another copy won, or the execution was cancelled.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Attempt {
    /// The agent's task id: `<execution>.p<partition>.a<number>`.
    pub id: String,
    pub node: String,
    pub number: u32,
    pub state: AttemptState,
    pub speculative: bool,
    #[ts(type = "number")]
    pub started_ms: i64,
    #[ts(type = "number | null")]
    pub ended_ms: Option<i64>,
    pub progress: f64,
    pub error: Option<String>,
    /// GPU indices granted (CUDA_VISIBLE_DEVICES).
    #[serde(default)]
    pub gpus: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Partition {
    pub index: u32,
    pub input: PartitionInput,
    pub state: PartState,
    pub attempts: Vec<Attempt>,
    /// Failed or lost attempts so far.
    pub failures: u32,
    /// No retry before this time (backoff).
    #[ts(type = "number")]
    pub not_before_ms: i64,
    /// The last checkpoint an attempt reported; a retry resumes from it.
    pub checkpoint: Option<String>,
    pub progress: f64,
    pub straggler: bool,
    /// The winning attempt's output lines (the partition's result).
    pub output: Vec<String>,
    /// Where `output` was cut, when the attempt wrote more than its limits.
    #[serde(default)]
    pub output_cut: Option<OutputCut>,
    /// Recent log lines of any attempt, for the UI.
    pub log_tail: Vec<String>,
    /// The initial plan's node.
    pub planned_node: Option<String>,
}

impl Partition {
    pub fn running(&self) -> impl Iterator<Item = &Attempt> {
        self.attempts.iter().filter(|a| a.state == AttemptState::Running)
    }

    /// The node of its latest attempt.
    pub fn node(&self) -> Option<&str> {
        self.attempts.last().map(|a| a.node.as_str())
    }

    fn winner(&self) -> Option<&Attempt> {
        self.attempts.iter().find(|a| a.state == AttemptState::Succeeded)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Execution {
    pub id: String,
    pub task_id: String,
    pub task: TaskSpec,
    pub status: ExecStatus,
    #[ts(type = "number")]
    pub created_ms: i64,
    #[ts(type = "number | null")]
    pub finished_ms: Option<i64>,
    pub partitions: Vec<Partition>,
    /// Counters for the report.
    pub retries: u32,
    pub speculative_copies: u32,
    pub discarded_results: u32,
    /// Set when the result was reused from an earlier execution with the same hash.
    pub reused_from: Option<String>,
    pub error: Option<String>,
}

/// What the executor must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Start(StartOrder),
    Cancel { attempt_id: String, node: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct StartOrder {
    pub attempt_id: String,
    pub execution_id: String,
    pub partition: u32,
    pub node: String,
    pub kind: TaskKind,
    pub argv: Vec<String>,
    /// The checkpoint to resume from (handed to the task as `STEWARD_RESUME`).
    pub resume: Option<String>,
    pub gpus: Vec<u32>,
    pub speculative: bool,
}

/// What became of a reported result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// The partition's result.
    Won,
    /// Ignored: the attempt was lost (its node declared down), cancelled, or another copy won.
    Discarded,
    /// A failure that will be retried (or that failed the task).
    Failed,
    Unknown,
}

impl Execution {
    pub fn new(
        id: String,
        task: TaskSpec,
        inputs: Vec<PartitionInput>,
        plan: Vec<Option<String>>,
        now_ms: i64,
    ) -> Execution {
        let partitions = inputs
            .into_iter()
            .enumerate()
            .map(|(i, input)| Partition {
                index: i as u32,
                input,
                state: PartState::Pending,
                attempts: Vec::new(),
                failures: 0,
                not_before_ms: now_ms,
                checkpoint: None,
                progress: 0.0,
                straggler: false,
                output: Vec::new(),
                output_cut: None,
                log_tail: Vec::new(),
                planned_node: plan.get(i).cloned().flatten(),
            })
            .collect();
        let waiting = task.lazy || !task.depends_on.is_empty();
        Execution {
            task_id: task.id.clone().unwrap_or_else(|| id.clone()),
            id,
            task,
            status: if waiting { ExecStatus::Waiting } else { ExecStatus::Running },
            created_ms: now_ms,
            finished_ms: None,
            partitions,
            retries: 0,
            speculative_copies: 0,
            discarded_results: 0,
            reused_from: None,
            error: None,
        }
    }

    /// Overall progress, 0..1.
    pub fn progress(&self) -> f64 {
        if self.status == ExecStatus::Succeeded {
            return 1.0;
        }
        let n = self.partitions.len().max(1) as f64;
        self.partitions.iter().map(|p| if p.state == PartState::Succeeded { 1.0 } else { p.progress }).sum::<f64>() / n
    }

    /// The task's result: every partition's output, in partition order.
    pub fn output(&self) -> impl Iterator<Item = &String> {
        self.partitions.iter().flat_map(|p| p.output.iter())
    }

    pub fn attempt(&self, attempt_id: &str) -> Option<(usize, usize)> {
        let (p, _) = parse_attempt_id(attempt_id)?;
        let part = self.partitions.get(p as usize)?;
        part.attempts.iter().position(|a| a.id == attempt_id).map(|a| (p as usize, a))
    }

    /// The order that starts one of its attempts (again, when an answer was lost: agents take
    /// RunTask idempotently by attempt id).
    pub fn start_order(&self, attempt_id: &str) -> Option<StartOrder> {
        let (p, a) = self.attempt(attempt_id)?;
        let part = &self.partitions[p];
        let a = &part.attempts[a];
        Some(StartOrder {
            attempt_id: a.id.clone(),
            execution_id: self.id.clone(),
            partition: part.index,
            node: a.node.clone(),
            kind: self.task.kind,
            argv: self.task.argv(part.index, &part.input),
            resume: part.checkpoint.clone(),
            gpus: a.gpus.clone(),
            speculative: a.speculative,
        })
    }

    /// Attempts running now, per node name (the balancer's `busy`).
    pub fn running_attempts(&self) -> impl Iterator<Item = &Attempt> {
        self.partitions.iter().flat_map(Partition::running)
    }

    /// Allowed to start work (not waiting for a demand or a dependency, not finished).
    pub fn release_to_run(&mut self) {
        if self.status == ExecStatus::Waiting {
            self.status = ExecStatus::Running;
        }
    }

    /// An attempt reported progress, a checkpoint, or log lines.
    pub fn observe(
        &mut self,
        attempt_id: &str,
        progress: Option<f64>,
        checkpoint: Option<String>,
        lines: &[String],
        tail: usize,
    ) {
        let Some((p, a)) = self.attempt(attempt_id) else { return };
        let part = &mut self.partitions[p];
        if part.attempts[a].state != AttemptState::Running {
            return;
        }
        if let Some(f) = progress.filter(|f| f.is_finite()) {
            part.attempts[a].progress = f.clamp(0.0, 1.0);
            part.progress = part.running().map(|a| a.progress).fold(0.0, f64::max);
        }
        if checkpoint.is_some() {
            part.checkpoint = checkpoint;
        }
        part.log_tail.extend(lines.iter().cloned());
        let excess = part.log_tail.len().saturating_sub(tail);
        part.log_tail.drain(..excess);
    }

    /// An attempt ended. Success wins the partition unless another copy already won or the
    /// attempt no longer counts (lost with its node, or cancelled). Returns the actions it
    /// causes (cancelling the losing copies; failing the task).
    #[expect(clippy::too_many_arguments, reason = "the attempt's outcome and the engine's context, each needed")]
    pub fn finished(
        &mut self,
        attempt_id: &str,
        ok: bool,
        output: impl Into<AttemptOutput>,
        error: Option<String>,
        cfg: &DispatchConfig,
        placer: &mut dyn Placer,
        now_ms: i64,
    ) -> (Accepted, Vec<Action>) {
        let Some((p, a)) = self.attempt(attempt_id) else { return (Accepted::Unknown, Vec::new()) };
        let part = &mut self.partitions[p];
        if part.attempts[a].state != AttemptState::Running || part.state != PartState::Running {
            self.discarded_results += 1;
            return (Accepted::Discarded, Vec::new());
        }
        placer.release(attempt_id, now_ms);
        let att = &mut part.attempts[a];
        att.ended_ms = Some(now_ms);
        let mut actions = Vec::new();
        if ok {
            att.state = AttemptState::Succeeded;
            att.progress = 1.0;
            part.state = PartState::Succeeded;
            part.progress = 1.0;
            let output = output.into();
            part.output = output.lines;
            part.output_cut = output.cut;
            for other in part.attempts.iter_mut().filter(|o| o.state == AttemptState::Running) {
                other.state = AttemptState::Cancelled;
                other.ended_ms = Some(now_ms);
                placer.release(&other.id, now_ms);
                actions.push(Action::Cancel { attempt_id: other.id.clone(), node: other.node.clone() });
            }
            if self.partitions.iter().all(|p| p.state == PartState::Succeeded) {
                self.status = ExecStatus::Succeeded;
                self.finished_ms = Some(now_ms);
            }
            return (Accepted::Won, actions);
        }
        att.state = AttemptState::Failed;
        att.error = error.clone();
        self.lose(p, error.unwrap_or_else(|| "failed".into()), cfg, placer, now_ms, &mut actions);
        (Accepted::Failed, actions)
    }

    /// A node was declared down (or its connection dropped): its running attempts are lost and
    /// retried elsewhere; anything it reports later is discarded.
    pub fn node_down(&mut self, node: &str, cfg: &DispatchConfig, placer: &mut dyn Placer, now_ms: i64) -> Vec<Action> {
        let mut actions = Vec::new();
        for p in 0..self.partitions.len() {
            let mut lost = false;
            for att in
                self.partitions[p].attempts.iter_mut().filter(|a| a.state == AttemptState::Running && a.node == node)
            {
                att.state = AttemptState::Lost;
                att.ended_ms = Some(now_ms);
                att.error = Some(format!("node {node} went down"));
                placer.release(&att.id, now_ms);
                lost = true;
            }
            if lost {
                self.lose(p, format!("node {node} went down"), cfg, placer, now_ms, &mut actions);
            }
        }
        actions
    }

    /// After an attempt of partition `p` failed or was lost: retry with backoff unless another
    /// copy still runs; fail the task when attempts are used up.
    fn lose(
        &mut self,
        p: usize,
        why: String,
        cfg: &DispatchConfig,
        placer: &mut dyn Placer,
        now_ms: i64,
        actions: &mut Vec<Action>,
    ) {
        let limit = self.task.attempt_limit(cfg.max_attempts);
        let part = &mut self.partitions[p];
        part.failures += 1;
        if part.running().next().is_some() {
            return;
        }
        part.straggler = false;
        if part.failures >= limit {
            part.state = PartState::Failed;
            self.error = Some(format!("partition {} failed {} times; last: {why}", part.index, part.failures));
            self.status = ExecStatus::Failed;
            self.finished_ms = Some(now_ms);
            actions.extend(self.cancel_running(placer, now_ms));
            return;
        }
        part.state = PartState::Pending;
        part.not_before_ms = now_ms + backoff_ms(part.failures, cfg.backoff_base_ms, cfg.backoff_max_ms);
        self.retries += 1;
    }

    /// Cancels the execution (or what still runs of a failed one).
    pub fn cancel(&mut self, placer: &mut dyn Placer, now_ms: i64) -> Vec<Action> {
        if self.status.is_terminal() {
            return Vec::new();
        }
        self.status = ExecStatus::Cancelled;
        self.finished_ms = Some(now_ms);
        for p in self.partitions.iter_mut().filter(|p| matches!(p.state, PartState::Pending | PartState::Running)) {
            p.state = PartState::Cancelled;
        }
        self.cancel_running(placer, now_ms)
    }

    fn cancel_running(&mut self, placer: &mut dyn Placer, now_ms: i64) -> Vec<Action> {
        let mut actions = Vec::new();
        for att in
            self.partitions.iter_mut().flat_map(|p| p.attempts.iter_mut()).filter(|a| a.state == AttemptState::Running)
        {
            att.state = AttemptState::Cancelled;
            att.ended_ms = Some(now_ms);
            placer.release(&att.id, now_ms);
            actions.push(Action::Cancel { attempt_id: att.id.clone(), node: att.node.clone() });
        }
        actions
    }

    /// Starts what may start now: due pending partitions (k replicas each), then speculative
    /// copies of stragglers. `nodes[i].busy` is updated for what it starts.
    pub fn tick(
        &mut self,
        nodes: &mut [NodeLoad],
        locality: &Locality,
        cfg: &DispatchConfig,
        placer: &mut dyn Placer,
        now_ms: i64,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.status != ExecStatus::Running {
            return actions;
        }
        let done = self.done_durations();
        let typical_s = if done.is_empty() { cfg.default_partition_ms } else { median(&done) } as f64 / 1000.0;
        let replicas = self.task.replicas.max(1);
        let limit = cfg.straggler.threshold_ms(&done, self.partitions.len());
        // A node that has run an attempt beyond the straggler limit gets no more of this task
        // while any other node can take it: waiting for a fast node beats starting on a slow one.
        let slow = limit.map(|l| self.slow_nodes(l, now_ms)).unwrap_or_default();
        let mask = !slow.is_empty() && nodes.iter().any(|n| n.available && !slow.contains(&n.name));
        let mut masked: Vec<NodeLoad> = Vec::new();
        if mask {
            masked = nodes.to_vec();
            masked.iter_mut().filter(|n| slow.contains(&n.name)).for_each(|n| n.available = false);
        }
        let outer = nodes;
        let nodes: &mut [NodeLoad] = if mask { &mut masked } else { &mut *outer };
        for p in 0..self.partitions.len() {
            if !nodes.iter().any(|n| n.free() > 0) {
                break;
            }
            let part = &self.partitions[p];
            if part.state != PartState::Pending || part.not_before_ms > now_ms {
                continue;
            }
            for _ in 0..replicas {
                if !self.start_copy(p, false, nodes, locality, typical_s, placer, now_ms, &mut actions) {
                    break;
                }
            }
        }
        if self.task.speculation
            && let Some(limit) = limit
        {
            for p in 0..self.partitions.len() {
                let part = &self.partitions[p];
                // One speculative copy per partition: a second rarely helps and doubles the waste.
                if part.state != PartState::Running || part.straggler {
                    continue;
                }
                let oldest = part.running().map(|a| a.started_ms).min().unwrap_or(now_ms);
                if now_ms - oldest <= limit {
                    continue;
                }
                if self.start_copy(p, true, nodes, locality, typical_s, placer, now_ms, &mut actions) {
                    self.partitions[p].straggler = true;
                    self.speculative_copies += 1;
                }
            }
        }
        if mask {
            for (n, v) in outer.iter_mut().zip(&masked) {
                n.busy = v.busy;
            }
        }
        actions
    }

    /// How long each partition's winning attempt ran (ms), for the finished partitions.
    fn done_durations(&self) -> Vec<i64> {
        self.partitions.iter().filter_map(|p| p.winner()).filter_map(|a| a.ended_ms.map(|e| e - a.started_ms)).collect()
    }

    /// Whether time passing alone could make `tick` start something: a partition waits (for
    /// its retry backoff, or for room), or, with speculation, one runs while enough are done
    /// for stragglers to be judged. Anything else changes only on an event (an attempt ended,
    /// a node went down, the task was released), so a timer need not look at the others.
    pub fn wants_timer(&self, cfg: &DispatchConfig) -> bool {
        if self.status != ExecStatus::Running {
            return false;
        }
        if self.partitions.iter().any(|p| p.state == PartState::Pending) {
            return true;
        }
        self.task.speculation
            && self.partitions.iter().any(|p| p.state == PartState::Running && !p.straggler)
            && cfg.straggler.threshold_ms(&self.done_durations(), self.partitions.len()).is_some()
    }

    /// Nodes where an attempt of this task ran (or runs) longer than `limit_ms`.
    fn slow_nodes(&self, limit_ms: i64, now_ms: i64) -> BTreeSet<String> {
        self.partitions
            .iter()
            .flat_map(|p| p.attempts.iter())
            .filter(|a| a.ended_ms.unwrap_or(now_ms) - a.started_ms > limit_ms && a.state != AttemptState::Lost)
            .map(|a| a.node.clone())
            .collect()
    }

    /// Starts one attempt of partition `p` on the best node that does not already run (or
    /// recently failed) it and that the placer grants. False when nothing could take it.
    #[allow(clippy::too_many_arguments)]
    fn start_copy(
        &mut self,
        p: usize,
        speculative: bool,
        nodes: &mut [NodeLoad],
        locality: &Locality,
        typical_s: f64,
        placer: &mut dyn Placer,
        now_ms: i64,
        actions: &mut Vec<Action>,
    ) -> bool {
        let part = &self.partitions[p];
        let running: BTreeSet<&str> = part.running().map(|a| a.node.as_str()).collect();
        let failed: BTreeSet<&str> =
            part.attempts.iter().filter(|a| a.state != AttemptState::Running).map(|a| a.node.as_str()).collect();
        let mut order = rank(nodes, locality, self.task.dataset.as_deref(), typical_s, &failed);
        order.retain(|&i| !running.contains(nodes[i].name.as_str()));
        // Before any attempt, follow the initial plan when its node is among the free ones.
        if part.attempts.is_empty()
            && let Some(pos) = order.iter().position(|&i| Some(&nodes[i].name) == part.planned_node.as_ref())
        {
            let i = order.remove(pos);
            order.insert(0, i);
        }
        let number = part.attempts.len() as u32 + 1;
        let attempt_id = attempt_id(&self.id, p as u32, number);
        let ask = PartitionAsk {
            owner: format!("dispatch:{}", self.task_id),
            cores: self.task.cores,
            memory_bytes: self.task.memory_bytes,
            gpus: self.task.gpus,
            priority: self.task.priority,
        };
        for i in order {
            let Some(Grant { gpus }) = placer.place(&attempt_id, &nodes[i].name, &ask, now_ms) else { continue };
            nodes[i].busy += 1;
            let part = &mut self.partitions[p];
            part.state = PartState::Running;
            part.attempts.push(Attempt {
                id: attempt_id.clone(),
                node: nodes[i].name.clone(),
                number,
                state: AttemptState::Running,
                speculative,
                started_ms: now_ms,
                ended_ms: None,
                progress: 0.0,
                error: None,
                gpus,
            });
            actions.extend(self.start_order(&attempt_id).map(Action::Start));
            return true;
        }
        false
    }
}

/// `<execution>.p<partition>.a<number>`: unique per attempt, and an allocation id the engine
/// accepts (no '/' or '#').
pub fn attempt_id(execution: &str, partition: u32, number: u32) -> String {
    format!("{execution}.p{partition}.a{number}")
}

/// (partition, number) of an attempt id.
pub fn parse_attempt_id(id: &str) -> Option<(u32, u32)> {
    let mut it = id.rsplitn(3, '.');
    let a = it.next()?.strip_prefix('a')?.parse().ok()?;
    let p = it.next()?.strip_prefix('p')?.parse().ok()?;
    Some((p, a))
}

/// The execution an attempt id belongs to.
pub fn execution_of(attempt_id: &str) -> Option<&str> {
    let mut it = attempt_id.rsplitn(3, '.');
    it.next()?;
    it.next()?;
    it.next()
}
