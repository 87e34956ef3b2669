//! Distributed execution as the front doors see it: `POST /resources/distributed`, the
//! executions list, and the executor that drives partitions on agents.
//!
//! The engine (steward-core's `dispatch`) decides; this module feeds it what agents report,
//! places attempts through the allocation engine, persists every execution before an attempt
//! is sent (so a restart re-attaches instead of starting it again), and carries out the
//! engine's actions over the node protocol.
//!
//! How a pass runs (`driver.rs`): one at a time under `Dispatcher::pass`, by the executor's loop
//! on its own small runtime or, when none is running, by the submitter itself
//! (`driver::try_pass`), whose start orders then go out over its own runtime's connections so a
//! round trip crosses no thread; what must outlive the caller (watches, cancels) goes to the
//! executor's runtime.
//!
//! Durability: changed executions are written before their start orders are sent, except a new
//! execution's first orders, which go out while it is written (the round trip pays the larger of
//! the two, not their sum; the submitter is answered after the write, and a failed write cancels
//! them). Orders a failed write held back wait in `State::held_starts` until a write succeeds.
//! So an agent may run a task the store never recorded: every task carries this control
//! center's id (the store's `instance` id, `owner` in the node protocol), and `orphans.rs`
//! cancels such tasks when their node is seen up. An ended attempt that starts nothing new is
//! written behind, by the next pass (the loop looks again every 50 ms while busy,
//! `State::look_again_in_ms`; dropping the service flushes).
//!
//! Memory stays bounded: ended executions beyond `DispatchSettings::kept_finished` leave memory
//! once written, and their tasks leave the task graph unless something waits on them; reads go to
//! the store, and a dependency the graph no longer knows is looked up there (`Store::task_status`,
//! a scan: the rare case). After a restart, process attempts are re-attached and no-op attempts
//! whose answers were lost are sent again once their node is up (`State::unanswered_noops`).
//!
//! Nodes come from the cluster manager through `nodes.rs` (`NodeSource`, replaceable in tests and
//! benchmarks); each agent is called over a connection of the executor's own runtime
//! (`LocalClients`, `AgentClient::redial_here`: same address, token and pin), redialled when the
//! cluster manager reconnects, so calls do not cross runtimes.

mod agent_io;
pub mod body;
pub(crate) mod counters;
mod datasets;
mod driver;
mod nodes;
mod orphans;
mod output;
mod partition_output;
mod pass;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;
use steward_core::alloc::time::format_rfc3339;
use steward_core::dispatch::{
    AttemptState, DispatchConfig, ExecStatus, Execution, ExecutionSummary, Locality, NodeLiveness, NodeLoad, TaskGraph,
    TaskGraphState, TaskKind, TaskSpec, partition_count, plan, split, task_hash,
};

pub use body::{
    Assignment, DistributeResult, DistributedOperation, DistributedResponse, DistributedResult, MonitorResult,
    PlannedPartition,
};
use nodes::NodesById;
pub use nodes::{DispatchNode, Liveness, NoNodes, NodeSource, StaticNodes, Unready, no_node_accepts_work};
pub use partition_output::{OutputChunk, OutputSource};

use crate::allocation::Allocations;
use crate::clock::now_ms;
use crate::cluster::Cluster;
use crate::stop_signal::StopSignal;
use crate::store_handle::StoreHandle;
use crate::{AllocError, ApiError};

/// How the executor behaves; `Default` is what `stewardctl serve` uses.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    pub engine: DispatchConfig,
    /// Start orders for one node go out in batches of up to this many (1 = one call each).
    pub max_batch: usize,
    /// After a restart, how long a node may take to reconnect before what it ran is retried.
    pub reattach_grace_ms: i64,
    /// Log lines kept per partition for the UI.
    pub log_tail: usize,
    /// Bytes per second assumed between nodes when the balancer costs moving a dataset.
    pub link_bytes_per_s: f64,
    /// Ended executions kept in memory, the newest; older ones are read from the store when
    /// asked for, so memory stays bounded however many tasks ran (~1–2 KB each).
    pub kept_finished: usize,
    /// Largest spill file of one partition's whole output (past its output limits).
    pub max_spill_bytes: u64,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        // 1 Gbit/s links.
        DispatchSettings {
            engine: DispatchConfig::default(),
            max_batch: 256,
            reattach_grace_ms: 10_000,
            log_tail: 20,
            link_bytes_per_s: 125e6,
            kept_finished: 10_000,
            max_spill_bytes: 1 << 30,
        }
    }
}

/// What the executor works with besides its own state.
pub(crate) struct Context {
    /// Executions are written here before their attempts are sent.
    pub(crate) store: StoreHandle,
    /// Attempts are placed as allocations, so they obey priorities and reservations.
    pub(crate) allocations: Arc<Allocations>,
    /// The nodes work runs on, unless `Steward::set_dispatch_nodes` names others.
    pub(crate) cluster: Arc<Cluster>,
    /// The executor's loop ends when it is raised.
    pub(crate) stop: StopSignal,
}

pub(crate) struct Dispatcher {
    pub(crate) ctx: Context,
    pub(crate) state: Mutex<State>,
    /// Held for a whole pass: one at a time, by the loop or by a submitter (`driver::try_pass`).
    pub(crate) pass: Mutex<()>,
    /// When the loop next runs a pass by itself (ms since the epoch).
    pub(crate) next_look_ms: std::sync::atomic::AtomicI64,
    pub(crate) wake: tokio::sync::Notify,
    /// Set by `set_dispatch_nodes`; otherwise the cluster manager's nodes.
    pub(crate) nodes: RwLock<Option<Arc<dyn NodeSource>>>,
    pub(crate) settings: DispatchSettings,
    next_id: AtomicU64,
    pub(crate) started_ms: i64,
    /// Bumped whenever an attempt ends: waiters re-check their execution.
    changed: tokio::sync::watch::Sender<u64>,
    /// The executor's runtime, for work started from outside it (cancels).
    pub(crate) handle: std::sync::OnceLock<tokio::runtime::Handle>,
    node_cache: Mutex<(i64, Vec<DispatchNode>)>,
    pub(crate) local_clients: nodes::LocalClients,
    /// This control center's id (the store's): agents tag the tasks it starts with it.
    pub(crate) owner: String,
    /// Where output past its limits is spilled (beside the database).
    pub(crate) spill: output::SpillDir,
    pub(crate) counters: counters::DispatchCounters,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) execs: BTreeMap<String, Execution>,
    /// Executions that may start something now (new, released, lost or failed an attempt).
    pub(crate) to_tick: BTreeSet<String>,
    /// Executions time alone may make start something (`Execution::wants_timer`: backoffs,
    /// stragglers); a full pass every 100 ms ticks these, not every execution in flight.
    pub(crate) timed: BTreeSet<String>,
    pub(crate) last_full_pass_ms: i64,
    /// When the executor last saw work (`look_again_in_ms`).
    pub(crate) last_busy_ms: i64,
    /// Process executions with attempts running (a superset: one is dropped once seen with
    /// none). The balancer's view and liveness look at these, not at every execution queued.
    pub(crate) started: BTreeSet<String>,
    /// The same for no-op executions, kept apart: they take no slot, and thousands may be in
    /// flight, so only a lost node looks at them; each leaves when its attempt ends.
    pub(crate) started_noop: BTreeSet<String>,
    /// Executions waiting for a free slot, oldest first: a pass with room takes from here
    /// instead of looking at every queued one.
    pub(crate) queued: BTreeSet<String>,
    /// Ended executions, in the order they ended (or were loaded): the oldest leave memory.
    pub(crate) finished: std::collections::VecDeque<String>,
    /// task id → its latest execution.
    pub(crate) by_task: HashMap<String, String>,
    /// Task hash → the latest succeeded execution with it (computation reuse).
    pub(crate) by_hash: HashMap<String, String>,
    pub(crate) graph: TaskGraph,
    pub(crate) locality: Locality,
    /// Executions changed since they were last written.
    pub(crate) dirty: BTreeSet<String>,
    /// Attempts whose allocations the next scheduler pass releases.
    pub(crate) releases: Vec<String>,
    /// Nodes seen up since this process started, and nodes declared down (until seen up again).
    pub(crate) liveness: NodeLiveness,
    /// Attempts with a live watch stream (or a start order held back by a failed write).
    pub(crate) attached: HashSet<String>,
    /// Start orders a failed write held back: sent after the next write that succeeds.
    pub(crate) held_starts: Vec<steward_core::dispatch::StartOrder>,
    /// No-op attempts loaded running: their answers were lost with the last process, so the
    /// next pass that sees their node up sends them again.
    pub(crate) unanswered_noops: HashSet<String>,
    /// Output collected per process attempt while it runs.
    pub(crate) outputs: output::Outputs,
    /// New executions the next pass places and writes together with their first attempts (one
    /// commit), then answers the submitter.
    pub(crate) submitted: Vec<Submission>,
}

pub(crate) struct Submission {
    pub(crate) execs: Vec<Execution>,
    pub(crate) written: tokio::sync::oneshot::Sender<Result<(), String>>,
}

impl Dispatcher {
    /// Loads executions from the store; unfinished ones are re-attached by the driver.
    pub(crate) fn load(
        ctx: Context,
        settings: DispatchSettings,
        db_path: &std::path::Path,
    ) -> Result<Dispatcher, ApiError> {
        let spill = output::SpillDir { dir: db_path.with_extension("output"), max_bytes: settings.max_spill_bytes };
        let (st, owner) = {
            let store = ctx.store.lock()?;
            (State::load(&store, settings.link_bytes_per_s)?, store.instance_id()?)
        };
        Ok(Dispatcher {
            ctx,
            state: Mutex::new(st),
            pass: Mutex::new(()),
            next_look_ms: std::sync::atomic::AtomicI64::new(0),
            wake: tokio::sync::Notify::new(),
            nodes: RwLock::new(None),
            settings,
            next_id: AtomicU64::new(0),
            started_ms: now_ms(),
            changed: tokio::sync::watch::channel(0).0,
            handle: std::sync::OnceLock::new(),
            node_cache: Mutex::new((i64::MIN, Vec::new())),
            local_clients: nodes::LocalClients::default(),
            owner,
            spill,
            counters: Default::default(),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, ApiError> {
        self.state.lock().map_err(|_| ApiError::Internal("dispatch state lock poisoned".into()))
    }

    fn new_id(&self, prefix: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{:x}{:x}{n}", now_ms(), std::process::id())
    }

    pub(crate) fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    /// The nodes, read from the source at most every 20 ms (views of every node are not free).
    pub(crate) fn cached_nodes(&self) -> Vec<DispatchNode> {
        let now = now_ms();
        if let Ok(c) = self.node_cache.lock()
            && now.saturating_sub(c.0) < 20
        {
            return c.1.clone();
        }
        let nodes = self.node_source().dispatch_nodes();
        if let Ok(mut c) = self.node_cache.lock() {
            *c = (now, nodes.clone());
        }
        nodes
    }

    pub(crate) fn node_source(&self) -> Arc<dyn NodeSource> {
        match self.nodes.read().ok().and_then(|n| n.clone()) {
            Some(n) => n,
            None => Arc::new(nodes::ClusterNodes(self.ctx.cluster.clone())),
        }
    }
}

impl State {
    /// The executions the store holds (the unfinished ones re-attached by the driver), with the
    /// registered datasets.
    fn load(store: &steward_store::Store, link_bytes_per_s: f64) -> Result<State, ApiError> {
        let mut st = State { locality: datasets::load_locality(store, link_bytes_per_s)?, ..State::default() };
        let mut released = Vec::new();
        for e in store.load_executions(500)? {
            if e.task.kind == TaskKind::Noop {
                st.unanswered_noops.extend(e.running_attempts().map(|a| a.id.clone()));
            }
            released.extend(st.adopt(e));
        }
        st.release(released);
        Ok(st)
    }

    /// Takes in an execution (loaded or new): graph, task index. Returns the tasks released to
    /// run (a waiting one whose dependencies already succeeded), for [`State::release`].
    #[must_use]
    fn adopt(&mut self, e: Execution) -> Vec<String> {
        let released = self.graph.add(&e.task_id, e.task.depends_on.clone(), e.task.lazy);
        match e.status {
            ExecStatus::Succeeded => self.graph.set_state(&e.task_id, TaskGraphState::Succeeded),
            ExecStatus::Failed | ExecStatus::Cancelled => self.graph.set_state(&e.task_id, TaskGraphState::Failed),
            ExecStatus::Running => self.graph.set_state(&e.task_id, TaskGraphState::Released),
            ExecStatus::Waiting => {}
        }
        self.by_task.insert(e.task_id.clone(), e.id.clone());
        if !e.status.is_terminal() {
            self.to_tick.insert(e.id.clone());
            if e.running_attempts().next().is_some() {
                self.started_set(e.task.kind).insert(e.id.clone());
            }
        }
        if e.status == ExecStatus::Succeeded && e.task.reuse {
            self.by_hash.insert(task_hash(&e.task), e.id.clone());
        }
        if e.status.is_terminal() {
            self.finished.push_back(e.id.clone());
        }
        self.execs.insert(e.id.clone(), e);
        released
    }

    /// Lets released tasks run (their dependencies are done and someone wants them).
    pub(crate) fn release(&mut self, task_ids: Vec<String>) {
        for t in task_ids {
            if let Some(e) = self.by_task.get(&t).and_then(|id| self.execs.get_mut(id)) {
                e.release_to_run();
                self.dirty.insert(e.id.clone());
                self.to_tick.insert(e.id.clone());
            }
        }
    }

    /// Records a finished execution in the graph, releasing (or failing) its dependents.
    pub(crate) fn settle(&mut self, exec_id: &str, now: i64) {
        let Some(e) = self.execs.get(exec_id) else { return };
        if !e.status.is_terminal() {
            return;
        }
        self.timed.remove(exec_id);
        self.finished.push_back(exec_id.to_string());
        if e.status == ExecStatus::Succeeded && e.task.reuse {
            self.by_hash.insert(task_hash(&e.task), e.id.clone());
        }
        let released = self.graph.completed(&e.task_id.clone(), e.status == ExecStatus::Succeeded);
        self.release(released);
        self.fail_doomed(now);
    }

    /// Waiting tasks that depend on a failed one fail too.
    fn fail_doomed(&mut self, now: i64) {
        for doomed in self.graph.doomed() {
            self.graph.set_state(&doomed, TaskGraphState::Failed);
            if let Some(d) = self.by_task.get(&doomed).and_then(|id| self.execs.get_mut(id)) {
                d.status = ExecStatus::Failed;
                d.finished_ms = Some(now);
                d.error = Some("a task it depends on failed".into());
                self.dirty.insert(d.id.clone());
                self.timed.remove(&d.id.clone());
            }
        }
    }
}

impl State {
    /// Takes in submitted executions (before the pass that writes them); their ids.
    /// The state of `attempt` here; `None` when its execution is not in memory (unknown, or
    /// ended and forgotten).
    pub(crate) fn attempt_state(&self, attempt: &str) -> Option<AttemptState> {
        let e = self.execs.get(steward_core::dispatch::execution_of(attempt)?)?;
        e.partitions.iter().flat_map(|p| &p.attempts).find(|a| a.id == attempt).map(|a| a.state)
    }

    /// Whether `attempt` runs here (as far as this control center knows).
    pub(crate) fn runs_attempt(&self, attempt: &str) -> bool {
        self.attempt_state(attempt) == Some(AttemptState::Running)
    }

    pub(crate) fn adopt_submitted(&mut self, execs: Vec<Execution>, now: i64) -> Vec<String> {
        let mut ids = Vec::with_capacity(execs.len());
        for exec in execs {
            let id = exec.id.clone();
            let released = self.adopt(exec);
            self.release(released);
            self.settle(&id, now);
            self.dirty.insert(id.clone());
            ids.push(id);
        }
        // One that depends on a task that already failed fails now.
        self.fail_doomed(now);
        ids
    }

    /// Process executions that may have attempts running (every one that has is among them).
    /// Nothing in flight, waiting or unwritten: only a wake-up (a submission, an agent's
    /// report) can give the executor work, so it need not poll.
    pub(crate) fn is_idle(&self) -> bool {
        self.started.is_empty()
            && self.started_noop.is_empty()
            && self.queued.is_empty()
            && self.submitted.is_empty()
            && self.to_tick.is_empty()
            && self.timed.is_empty()
            && self.dirty.is_empty()
            && self.releases.is_empty()
    }

    /// Lets the oldest ended executions beyond `kept` leave memory once they are
    /// written and nothing of theirs runs (a copy being cancelled). An execution settled twice
    /// (a late replica) may leave a little early; it is still in the store.
    pub(crate) fn forget_finished(&mut self, kept: usize) {
        for _ in 0..self.finished.len().saturating_sub(kept) {
            let Some(id) = self.finished.pop_front() else { break };
            let Some(e) = self.execs.get(&id) else { continue };
            if !e.status.is_terminal() || self.dirty.contains(&id) || e.running_attempts().next().is_some() {
                self.finished.push_back(id);
                continue;
            }
            let (task_id, hash) = (e.task_id.clone(), e.task.reuse.then(|| task_hash(&e.task)));
            self.execs.remove(&id);
            if self.by_task.get(&task_id) == Some(&id) {
                self.by_task.remove(&task_id);
                // A dependent submitted later reads its outcome from the store.
                self.graph.forget(&task_id);
            }
            if let Some(h) = hash
                && self.by_hash.get(&h) == Some(&id)
            {
                self.by_hash.remove(&h);
            }
        }
    }

    /// How soon a pass is due with nothing waking the executor: every 50 ms while anything is
    /// in flight, pending or unwritten (timers, backoffs, nodes lost; ended attempts are
    /// written behind, usually by the next submission's pass, in its commit — until then an
    /// ended attempt counts as running on disk and a restart re-attaches it) and for a second
    /// after; idle, a slow fallback poll is enough (waking 20 times a second cost an idle
    /// control center a quarter of a percent of a core).
    pub(crate) fn look_again_in_ms(&mut self, now: i64) -> u64 {
        if !self.is_idle() {
            self.last_busy_ms = now;
        }
        if now - self.last_busy_ms < 1000 { 50 } else { 5000 }
    }

    pub(crate) fn with_attempts(&self) -> impl Iterator<Item = &Execution> {
        self.started.iter().filter_map(|id| self.execs.get(id))
    }

    /// The same, no-op executions included.
    pub(crate) fn all_with_attempts(&self) -> impl Iterator<Item = &Execution> {
        self.started.iter().chain(&self.started_noop).filter_map(|id| self.execs.get(id))
    }

    pub(crate) fn started_set(&mut self, kind: TaskKind) -> &mut BTreeSet<String> {
        match kind {
            TaskKind::Process => &mut self.started,
            TaskKind::Noop => &mut self.started_noop,
        }
    }
}

/// The cluster's free capacity as the balancer sees it (new work only on nodes that are up).
pub(crate) fn views<'a>(nodes: &[DispatchNode], running: impl Iterator<Item = &'a Execution>) -> Vec<NodeLoad> {
    let mut busy: HashMap<&str, u32> = HashMap::new();
    for a in running.flat_map(Execution::running_attempts) {
        *busy.entry(a.node.as_str()).or_default() += 1;
    }
    nodes
        .iter()
        .map(|n| NodeLoad {
            name: n.id.clone(),
            slots: n.resources.cores.max(1),
            busy: busy.get(n.id.as_str()).copied().unwrap_or(0),
            available: n.liveness == Liveness::Up && n.client.is_some(),
        })
        .collect()
}

impl Dispatcher {
    /// Attaches the cluster whose nodes distributed tasks run on.
    pub(crate) fn set_dispatch_nodes(&self, source: Arc<dyn NodeSource>) {
        if let Ok(mut n) = self.nodes.write() {
            *n = Some(source);
        }
        if let Ok(mut c) = self.node_cache.lock() {
            c.0 = i64::MIN;
        }
        self.wake.notify_one();
    }

    /// `POST /resources/distributed`: `distribute` a task, or `monitor` an execution.
    pub(crate) async fn distributed(self: &Arc<Self>, body: Value) -> Result<DistributedResponse, AllocError> {
        let (id, parsed) = body::parse(&body).map_err(AllocError::Invalid)?;
        let request_id = id.unwrap_or_else(|| self.new_id("req-"));
        let now = now_ms();
        let (operation, result) = match parsed {
            body::Parsed::Distribute(task) => {
                (DistributedOperation::Distribute, DistributedResult::Distribute(self.distribute(*task).await?))
            }
            body::Parsed::Monitor(exec) => {
                (DistributedOperation::Monitor, DistributedResult::Monitor(self.monitor(&exec)?))
            }
        };
        Ok(DistributedResponse { request_id, timestamp: format_rfc3339(now), operation, result })
    }

    /// Splits `task` by the cluster's capacity, plans where each partition goes, and hands it
    /// to the executor (or answers with a finished execution's result when it can be reused).
    pub(crate) async fn distribute(self: &Arc<Self>, task: TaskSpec) -> Result<DistributeResult, AllocError> {
        let mut out = self.distribute_many(vec![task]).await?;
        Ok(out.remove(0))
    }

    /// Many tasks at once, written in one transaction: the way to submit many small tasks.
    pub(crate) async fn distribute_many(
        self: &Arc<Self>,
        tasks: Vec<TaskSpec>,
    ) -> Result<Vec<DistributeResult>, AllocError> {
        let mut execs = Vec::with_capacity(tasks.len());
        // One look at the cluster for the whole batch.
        let nodes = self.cached_nodes();
        let views = views(&nodes, self.lock()?.with_attempts());
        let nobody = self.why_no_node(&nodes).filter(|(_, coming)| !coming);
        for task in tasks {
            let exec = self.prepare(task, &views).await?;
            // Valid, not reused, and no node will take it: refused rather than left waiting
            // forever, unless it asks to wait.
            if let Some((why, _)) = &nobody
                && !exec.task.wait
                && !exec.status.is_terminal()
            {
                return Err(AllocError::Conflict(format!(
                    "{why}; send \"wait\": true with the task to queue it until a node takes work"
                )));
            }
            execs.push(exec);
        }
        let results: Vec<DistributeResult> = execs
            .iter()
            .map(|exec| DistributeResult {
                task_id: exec.task_id.clone(),
                partitions: exec
                    .partitions
                    .iter()
                    .map(|p| PlannedPartition { index: p.index, input: p.input.clone() })
                    .collect(),
                assignments: exec
                    .partitions
                    .iter()
                    .map(|p| Assignment {
                        partition: p.index,
                        node: p.node().map(str::to_string).or(p.planned_node.clone()),
                    })
                    .collect(),
                execution_id: exec.id.clone(),
            })
            .collect();
        self.restore_dependencies(&execs).await?;
        // The next pass writes them with their first attempts in one transaction and starts
        // those; they count as submitted once written. The submitter runs it unless one runs.
        let (written, reply) = tokio::sync::oneshot::channel();
        self.lock()?.submitted.push(Submission { execs, written });
        driver::try_pass(self);
        match reply.await {
            Ok(Ok(())) => Ok(results),
            Ok(Err(e)) => Err(ApiError::Internal(format!("the task could not be recorded: {e}")).into()),
            Err(_) => {
                Err(ApiError::Internal("the executor did not record the task (it stopped or failed)".into()).into())
            }
        }
    }

    /// Validates `task`, then splits it by the cluster's capacity and plans where each
    /// partition goes, or answers with a finished execution's result when it can be reused.
    async fn prepare(&self, mut task: TaskSpec, views: &[NodeLoad]) -> Result<Execution, AllocError> {
        let mut errors = task.validate("task");
        errors.extend(self.lock()?.dataset_error(&task, "task"));
        if !errors.is_empty() {
            return Err(AllocError::Invalid(errors));
        }
        let task_id = task.id.clone().unwrap_or_else(|| self.new_id("t"));
        task.id = Some(task_id.clone());
        // The limits it runs with, shown with it.
        task.output = Some(task.output.unwrap_or_default().or(self.settings.engine.output_defaults()));
        let exec_id = self.new_id("x");
        let now = now_ms();
        let reused = if task.reuse { self.reusable(&task).await? } else { None };
        Ok(match reused {
            Some(old) => {
                let mut e = Execution::new(exec_id, task, Vec::new(), Vec::new(), now);
                e.partitions = old.partitions.clone();
                e.status = ExecStatus::Succeeded;
                e.finished_ms = Some(now);
                e.reused_from = Some(old.id.clone());
                e
            }
            None => {
                let st = self.lock()?;
                if st.by_task.get(&task_id).and_then(|x| st.execs.get(x)).is_some_and(|e| !e.status.is_terminal()) {
                    return Err(AllocError::Conflict(format!("task {task_id:?} is already running")));
                }
                let slots = views.iter().filter(|v| v.available).map(|v| v.slots).sum();
                let count = partition_count(&task, slots, self.settings.engine.partitions_per_slot);
                let typical = self.settings.engine.default_partition_ms as f64 / 1000.0;
                let plan = plan(count, views, &st.locality, task.dataset.as_deref(), typical);
                let inputs = split(&task.input, count);
                drop(st);
                Execution::new(exec_id, task, inputs, plan, now)
            }
        })
    }

    /// The outcomes of dependencies the task graph does not know (they ended long ago, or
    /// before a restart), read from the store: their dependents run (or fail) instead of
    /// waiting forever. A dependency the store does not know either may be submitted later.
    async fn restore_dependencies(&self, execs: &[Execution]) -> Result<(), ApiError> {
        let unknown: BTreeSet<String> = {
            let st = self.lock()?;
            // Those submitted in the same batch need no lookup.
            let batch: HashSet<&str> = execs.iter().map(|e| e.task_id.as_str()).collect();
            execs
                .iter()
                .flat_map(|e| &e.task.depends_on)
                .filter(|d| !batch.contains(d.as_str()) && st.graph.state(d).is_none())
                .cloned()
                .collect()
        };
        if unknown.is_empty() {
            return Ok(());
        }
        let found = self
            .ctx
            .store
            .run(move |store| {
                unknown.into_iter().map(|t| Ok((store.task_status(&t)?, t))).collect::<Result<Vec<_>, ApiError>>()
            })
            .await?;
        let mut st = self.lock()?;
        for (status, task_id) in found {
            // Unfinished executions are always in memory.
            let Some(status) = status.filter(|s| s.is_terminal()) else { continue };
            let released = st.graph.restore(&task_id, status == ExecStatus::Succeeded);
            st.release(released);
        }
        Ok(())
    }

    /// A finished execution with the same command and inputs, in memory or in the store.
    async fn reusable(&self, task: &TaskSpec) -> Result<Option<Execution>, ApiError> {
        let hash = task_hash(task);
        {
            let st = self.lock()?;
            if let Some(e) = st.by_hash.get(&hash).and_then(|id| st.execs.get(id)) {
                return Ok(Some(e.clone()));
            }
        }
        self.ctx
            .store
            .run(move |store| {
                let Some(id) = store.succeeded_execution_with_hash(&hash)? else { return Ok(None) };
                Ok(store.execution(&id)?)
            })
            .await
    }

    /// The monitor answer; asking for a lazy task's result is what makes it run.
    pub(crate) fn monitor(&self, execution_id: &str) -> Result<MonitorResult, AllocError> {
        let nodes = NodesById::new(self.cached_nodes());
        let why = self.why_no_node(nodes.list()).map(|(w, _)| w);
        let mut st = self.lock()?;
        let Some(task_id) = st.execs.get(execution_id).map(|e| e.task_id.clone()) else {
            drop(st);
            // Ended long ago: nothing to release, read from the store.
            let state_of = |n: &str| nodes.get(n).map(|x| x.liveness.name().to_string());
            return self.with_execution(execution_id, |e| monitor_result(e, state_of, None)).map_err(|e| match e {
                ApiError::NotFound(m) => AllocError::NotFound(m),
                e => e.into(),
            });
        };
        let released = st.graph.demand(&task_id);
        let woke = !released.is_empty();
        st.release(released);
        let state_of = |n: &str| {
            let down = st.liveness.is_down(n);
            nodes.get(n).map(|x| if down { "down" } else { x.liveness.name() }.to_string())
        };
        let result = monitor_result(&st.execs[execution_id], state_of, why.as_deref());
        drop(st);
        if woke {
            self.wake.notify_one();
        }
        Ok(result)
    }

    /// Executions in memory that have not ended, by status (for `/metrics`).
    pub(crate) fn unfinished_executions(&self) -> Vec<(ExecStatus, usize)> {
        let Ok(st) = self.lock() else { return Vec::new() };
        crate::metrics::tally(st.execs.values().map(|e| e.status).filter(|s| !s.is_terminal()))
    }

    /// Tasks the executor's task graph holds: those in flight and the recently ended (bounded
    /// like the executions kept in memory).
    pub(crate) fn tasks_in_memory(&self) -> Result<usize, ApiError> {
        Ok(self.lock()?.graph.len())
    }

    /// Executions, newest first; pending partitions say why they wait when no node takes work.
    pub(crate) fn executions(&self) -> Result<Vec<ExecutionSummary>, ApiError> {
        let why = self.why_waiting();
        let mut all: Vec<ExecutionSummary> = self.lock()?.execs.values().rev().map(Execution::summary).collect();
        all.iter_mut().for_each(|s| note_waiting(s, why.as_deref()));
        Ok(all)
    }

    pub(crate) fn execution(&self, id: &str) -> Result<ExecutionSummary, ApiError> {
        let mut summary = self.with_execution(id, Execution::summary)?;
        note_waiting(&mut summary, self.why_waiting().as_deref());
        Ok(summary)
    }

    /// Why no node takes work (and whether one may come by itself); `None` while one does.
    fn why_no_node(&self, nodes: &[DispatchNode]) -> Option<(String, bool)> {
        // Asking the source for reasons only when there is something to explain.
        if nodes.iter().any(DispatchNode::takes_work) {
            return None;
        }
        no_node_accepts_work(nodes, &self.node_source().unready())
    }

    fn why_waiting(&self) -> Option<String> {
        self.why_no_node(&self.cached_nodes()).map(|(why, _)| why)
    }

    /// The task's result: the winning attempts' output lines, in partition order.
    pub(crate) fn execution_output(&self, id: &str) -> Result<Vec<String>, ApiError> {
        self.with_execution(id, |e| e.output().cloned().collect())
    }

    /// `f` of execution `id`, from memory or, ended long ago, from the store.
    pub(crate) fn with_execution<T>(&self, id: &str, f: impl FnOnce(&Execution) -> T) -> Result<T, ApiError> {
        if let Some(e) = self.lock()?.execs.get(id) {
            return Ok(f(e));
        }
        let stored = self.ctx.store.lock()?.execution(id)?;
        stored.as_ref().map(f).ok_or_else(|| ApiError::NotFound(format!("no execution {id:?}")))
    }

    /// Execution `id`'s status: cheaper than [`Dispatcher::execution`] (no summary is built, and
    /// an execution that left memory is not read whole from the store).
    pub(crate) fn execution_status(&self, id: &str) -> Result<ExecStatus, ApiError> {
        if let Some(e) = self.lock()?.execs.get(id) {
            return Ok(e.status);
        }
        self.ctx.store.lock()?.execution_status(id)?.ok_or_else(|| ApiError::NotFound(format!("no execution {id:?}")))
    }

    /// Waits until execution `id` has ended (or `timeout` passed) and returns its status.
    pub(crate) async fn wait_status(&self, id: &str, timeout: std::time::Duration) -> Result<ExecStatus, ApiError> {
        let mut rx = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let status = self.execution_status(id)?;
            if status.is_terminal() || tokio::time::timeout_at(deadline, rx.changed()).await.is_err() {
                return Ok(status);
            }
        }
    }

    /// Waits until execution `id` has ended (or `timeout` passed) and returns it.
    pub(crate) async fn wait_execution(
        &self,
        id: &str,
        timeout: std::time::Duration,
    ) -> Result<ExecutionSummary, ApiError> {
        self.wait_status(id, timeout).await?;
        self.execution(id)
    }

    /// Cancels an execution: what runs is cancelled on its agents.
    pub(crate) fn cancel_execution(&self, id: &str) -> Result<ExecutionSummary, ApiError> {
        let mut st = self.lock()?;
        let now = now_ms();
        let mut releases = driver::Releases::default();
        let Some(e) = st.execs.get_mut(id) else {
            drop(st);
            // Only ended executions leave memory: nothing to cancel.
            return self.execution(id);
        };
        let actions = e.cancel(&mut releases, now);
        let summary = e.summary();
        st.releases.extend(releases.0);
        st.dirty.insert(id.to_string());
        st.settle(id, now);
        drop(st);
        driver::carry_out_cancels(self, actions);
        self.wake.notify_one();
        Ok(summary)
    }
}

fn monitor_result(e: &Execution, state_of: impl Fn(&str) -> Option<String>, why: Option<&str>) -> MonitorResult {
    let mut report = e.report(now_ms());
    if report.pending > 0 && !e.status.is_terminal() {
        report.waiting = why.map(str::to_string);
    }
    MonitorResult {
        execution_id: e.id.clone(),
        status: e.status,
        progress: e.progress(),
        node_statuses: e.node_statuses(state_of),
        stragglers: e.stragglers(),
        report,
    }
}

/// Pending partitions of an execution in flight say why they wait.
fn note_waiting(s: &mut ExecutionSummary, why: Option<&str>) {
    if s.status.is_terminal() {
        return;
    }
    for p in s.partitions.iter_mut().filter(|p| p.state == steward_core::dispatch::PartState::Pending) {
        p.waiting = why.map(str::to_string);
    }
}

pub(crate) use driver::{flush, spawn_driver};
