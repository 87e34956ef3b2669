//! One pass of the executor, under the scheduler's lock and its own state's: take in new
//! submissions, declare lost the attempts of nodes that went down, free what was released, tick
//! the executions that may start something, send a new execution's first start orders, and
//! write every changed execution before anything else goes out. The driver (`driver.rs`) runs
//! passes and carries out what they answer.

use std::collections::HashSet;
use std::sync::Arc;

use steward_core::alloc::Scheduler;
use steward_core::dispatch::{
    Action, DispatchConfig, ExecStatus, NodeLoad, PartState, Reach, ReattachGrace, StartOrder, TaskKind, TaskSpec,
    Unconstrained,
};
use steward_store::Store;
use tokio::sync::oneshot;

use super::driver::{Releases, send_starts, start_specs};
use super::nodes::NodesById;
use super::{Dispatcher, Liveness, State, views};

/// Tells a submitter whether its executions were written.
type WrittenReply = oneshot::Sender<Result<(), String>>;

/// What a pass leaves for the driver to do once the locks are released.
#[derive(Default)]
pub(super) struct PassOutcome {
    /// Start orders (on disk already) and cancels.
    pub(super) actions: Vec<Action>,
    /// Submitters waiting to hear whether their executions were written.
    pub(super) replies: Vec<(WrittenReply, Result<(), String>)>,
    /// Nodes seen up for the first time: swept for tasks this control center no longer runs.
    pub(super) newly_up: Vec<String>,
}

/// What a pass collects as it goes.
#[derive(Default)]
struct Pass {
    actions: Vec<Action>,
    releases: Releases,
    /// Executions submitted since the last pass, written by this one with their first attempts.
    fresh: Vec<String>,
    waiting: Vec<WrittenReply>,
    newly_up: Vec<String>,
}

/// Runs one pass at `now` over `nodes`, placing through `sched` and writing to `store`.
pub(super) fn run(
    d: &Arc<Dispatcher>,
    nodes: &NodesById,
    sched: &mut Scheduler,
    store: &mut Store,
    now: i64,
) -> PassOutcome {
    let Ok(mut st) = d.state.lock() else { return PassOutcome::default() };
    let cfg = d.settings.engine;
    let mut pass = take_submissions(&mut st, now);
    let grace = ReattachGrace { started_ms: d.started_ms, grace_ms: d.settings.reattach_grace_ms };
    declare_lost(&mut st, nodes, grace, &cfg, &mut pass, now);
    if !st.unanswered_noops.is_empty() {
        pass.actions.extend(resend_unanswered_noops(&mut st, nodes));
    }
    free_released(&mut st, &mut pass, sched, now);
    for n in nodes.list() {
        sched.add_node(n.resources.clone());
    }
    tick_executions(&mut st, nodes, sched, &cfg, &mut pass, now);
    send_first_starts(d, &mut st, nodes, &mut pass);
    let written = write_executions(&mut st, store, &mut pass, now);
    if written.is_ok() {
        st.forget_finished(d.settings.kept_finished);
    }
    PassOutcome {
        actions: pass.actions,
        replies: pass.waiting.into_iter().map(|r| (r, written.clone())).collect(),
        newly_up: pass.newly_up,
    }
}

/// Takes in what was submitted since the last pass.
fn take_submissions(st: &mut State, now: i64) -> Pass {
    let mut pass = Pass::default();
    for sub in std::mem::take(&mut st.submitted) {
        pass.fresh.extend(st.adopt_submitted(sub.execs, now));
        pass.waiting.push(sub.written);
    }
    pass
}

/// How a node looks to the liveness rules: up and connected, connected, or neither.
fn reach(liveness: Liveness, connected: bool) -> Reach {
    match (liveness, connected) {
        (Liveness::Up, true) => Reach::Up,
        (Liveness::Down, _) | (_, false) => Reach::Unreachable,
        (Liveness::Suspect | Liveness::Draining, true) => Reach::Holding,
    }
}

/// A node that was up and is no longer (or never came back after a restart) loses what it ran;
/// a node seen up again takes new work, its lost attempts stay lost.
fn declare_lost(
    st: &mut State,
    nodes: &NodesById,
    grace: ReattachGrace,
    cfg: &DispatchConfig,
    pass: &mut Pass,
    now: i64,
) {
    let running_on: Vec<String> =
        st.with_attempts().flat_map(|e| e.running_attempts().map(|a| a.node.clone())).collect();
    let seen = nodes.list().iter().map(|n| (n.id.as_str(), reach(n.liveness, n.client.is_some())));
    let change = st.liveness.observe(seen, running_on.iter().map(String::as_str), grace, now);
    pass.newly_up = change.newly_up;
    for node in change.lost {
        let ids: Vec<String> = st
            .all_with_attempts()
            .filter(|e| e.running_attempts().any(|a| a.node == node))
            .map(|e| e.id.clone())
            .collect();
        for eid in ids {
            if let Some(e) = st.execs.get_mut(&eid) {
                pass.actions.extend(e.node_down(&node, cfg, &mut pass.releases, now));
            }
            st.dirty.insert(eid.clone());
            st.to_tick.insert(eid.clone());
            st.settle(&eid, now);
        }
    }
}

/// No-op attempts that were running when the control center last stopped (their answers were
/// lost with it), sent again once their node is up: RunTask is idempotent by id. An attempt
/// whose node is declared down meanwhile was lost with it and is retried like any other.
fn resend_unanswered_noops(st: &mut State, nodes: &NodesById) -> Vec<Action> {
    let mut out = Vec::new();
    for id in std::mem::take(&mut st.unanswered_noops) {
        if !st.runs_attempt(&id) {
            continue;
        }
        let Some(order) = steward_core::dispatch::execution_of(&id).and_then(|e| st.execs.get(e)?.start_order(&id))
        else {
            continue;
        };
        if st.liveness.is_down(&order.node) {
            continue;
        }
        if nodes.get(&order.node).is_some_and(|n| n.takes_work()) {
            out.push(Action::Start(order));
        } else {
            st.unanswered_noops.insert(id);
        }
    }
    out
}

/// Frees the allocations of attempts released since the last pass.
fn free_released(st: &mut State, pass: &mut Pass, sched: &mut Scheduler, now: i64) {
    st.releases.append(&mut pass.releases.0);
    for r in std::mem::take(&mut st.releases) {
        sched.release_attempt(&r, now);
    }
}

/// Runs a task noop-style (no resources, no slot): the agent acknowledges it without a process.
fn asks_nothing(kind: TaskKind, t: &TaskSpec) -> bool {
    kind == TaskKind::Noop || (t.cores == 0 && t.memory_bytes == 0 && t.gpus == 0)
}

/// The executions to tick: those that may start something, and every 100 ms those that time
/// alone may make start something (backoffs, stragglers).
fn due_for_tick(st: &mut State, now: i64) -> Vec<String> {
    let mut ids = std::mem::take(&mut st.to_tick);
    if now.saturating_sub(st.last_full_pass_ms) >= 100 {
        st.last_full_pass_ms = now;
        ids.extend(st.timed.iter().cloned());
    }
    ids.into_iter().collect()
}

/// Ticks the queued executions (oldest first, while there is room), then those due: the engine
/// places their attempts through the scheduler and answers with what to start.
fn tick_executions(
    st: &mut State,
    nodes: &NodesById,
    sched: &mut Scheduler,
    cfg: &DispatchConfig,
    pass: &mut Pass,
    now: i64,
) {
    // Executions whose attempts all ended since the last pass leave `started`.
    let State { execs, started, .. } = &mut *st;
    started.retain(|id| execs.get(id).is_some_and(|e| e.running_attempts().next().is_some()));
    let mut real = views(nodes.list(), st.with_attempts());
    // No-op work holds no resources, so it takes no slot.
    let mut free: Vec<NodeLoad> = real.iter().cloned().map(|v| NodeLoad { slots: u32::MAX / 2, ..v }).collect();
    let due = due_for_tick(st, now);
    let State { execs, locality, dirty, started, started_noop, queued, timed, .. } = &mut *st;
    let room = |views: &[NodeLoad]| views.iter().any(|v| v.free() > 0);
    let mut queue_open = true;
    let mut due = due.into_iter();
    loop {
        let next = if queue_open && room(&real) { queued.pop_first() } else { None };
        queue_open &= next.is_some();
        let Some(id) = next.or_else(|| due.next()) else { break };
        let Some(e) = execs.get_mut(&id) else { continue };
        if e.status != ExecStatus::Running {
            timed.remove(&id);
            continue;
        }
        let noop = asks_nothing(e.task.kind, &e.task);
        if !noop && !room(&real) {
            // Nothing free: it waits in the queue for a pass that has room.
            queued.insert(id);
            continue;
        }
        let acts = if noop {
            e.tick(&mut free, locality, cfg, &mut Unconstrained, now)
        } else {
            e.tick(&mut real, locality, cfg, sched, now)
        };
        if !noop && !room(&real) && e.partitions.iter().any(|p| p.state == PartState::Pending) {
            queued.insert(id.clone());
        }
        if e.wants_timer(cfg) {
            timed.insert(id.clone());
        } else {
            timed.remove(&id);
        }
        if acts.iter().any(|a| matches!(a, Action::Start(_))) {
            match e.task.kind {
                TaskKind::Process => started.insert(id.clone()),
                TaskKind::Noop => started_noop.insert(id.clone()),
            };
        }
        if !acts.is_empty() {
            dirty.insert(id);
            pass.actions.extend(acts);
        }
    }
}

/// A new execution's first start orders go out while it is written (the submitter is answered
/// only after the write); every other attempt is on disk before an agent hears of it.
fn send_first_starts(d: &Arc<Dispatcher>, st: &mut State, nodes: &NodesById, pass: &mut Pass) {
    if pass.fresh.is_empty() {
        return;
    }
    let fresh: HashSet<&str> = pass.fresh.iter().map(String::as_str).collect();
    let first: Vec<StartOrder> = pass
        .actions
        .extract_if(.., |a| matches!(a, Action::Start(o) if fresh.contains(o.execution_id.as_str())))
        .filter_map(|a| match a {
            Action::Start(o) => Some(o),
            Action::Cancel { .. } => None,
        })
        .collect();
    if !first.is_empty() {
        let specs = start_specs(st, &first, &d.owner, d.settings.engine.output_defaults());
        send_starts(d, nodes, first, specs);
    }
}

/// Writes every changed execution. Start orders held back by an earlier failed write go out
/// now that they are on disk; when this write fails, the orders wait for one that succeeds.
fn write_executions(st: &mut State, store: &mut Store, pass: &mut Pass, now: i64) -> Result<(), String> {
    let State { execs, dirty, held_starts, attached, .. } = &mut *st;
    let ids: Vec<String> = std::mem::take(dirty).into_iter().collect();
    let written = store.put_executions(ids.iter().filter_map(|id| execs.get(id))).map_err(|e| e.to_string());
    match &written {
        Ok(()) => pass.actions.extend(super::driver::resend_held(held_starts, attached, execs)),
        Err(e) => {
            st.dirty.extend(ids);
            hold_back(st, pass, e, now);
        }
    }
    written
}

/// After a failed write: the start orders wait for a write that succeeds (re-attaching must not
/// send them before it), and the new executions, never recorded, fail; what of theirs went out
/// early is cancelled.
fn hold_back(st: &mut State, pass: &mut Pass, error: &str, now: i64) {
    let fresh: HashSet<&str> = pass.fresh.iter().map(String::as_str).collect();
    for a in pass.actions.extract_if(.., |a| matches!(a, Action::Start(_))) {
        let Action::Start(o) = a else { continue };
        if !fresh.contains(o.execution_id.as_str()) {
            if o.kind == TaskKind::Process {
                st.attached.insert(o.attempt_id.clone());
            }
            st.held_starts.push(o);
        }
    }
    tracing::error!("writing executions failed: {error}; holding back {} start orders", st.held_starts.len());
    for id in &pass.fresh {
        if let Some(x) = st.execs.get_mut(id) {
            pass.actions.extend(x.cancel(&mut pass.releases, now));
            x.status = ExecStatus::Failed;
            x.error = Some(format!("could not be recorded: {error}"));
        }
    }
    st.releases.append(&mut pass.releases.0);
    for id in &pass.fresh {
        st.settle(id, now);
    }
}
