//! The executor's passes, run by its loop (on a wake-up: an agent reported, a task arrived; or
//! every 50 ms while busy) or by a submitter when no pass is running. A pass
//! declares lost the attempts of nodes that went down, lets the engine start what may start
//! (placing through the allocation engine), writes the changed executions *before* sending
//! anything, then sends start orders (batched per node), cancels, and re-attaches to attempts
//! it is not watching (after a restart, or a dropped stream).

use std::collections::HashMap;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Weak};
use std::time::Duration;

use steward_agent::proto::{self, RunTaskReply, TaskEvent};
use steward_agent::{AgentClient, AgentError};
use steward_core::dispatch::{
    Accepted, Action, AttemptOutput, AttemptState, ExecStatus, Grant, NodeLoad, OutputLimits, PartState, PartitionAsk,
    Placer, StartOrder, TaskKind, Unconstrained, batch, execution_of,
};

use super::agent_io::{outcome, proto_spec, start};
use super::output::Collector;
use super::{DispatchNode, Liveness, views};
use crate::clock::now_ms;
use crate::service::Shared;

/// Collects the attempts the engine releases outside a scheduler pass; the next pass frees
/// their allocations.
#[derive(Default)]
pub(crate) struct Releases(pub Vec<String>);

impl Placer for Releases {
    fn place(&mut self, _: &str, _: &str, _: &PartitionAsk, _: i64) -> Option<Grant> {
        None
    }
    fn release(&mut self, attempt_id: &str, _: i64) {
        self.0.push(attempt_id.to_string());
    }
}

/// Runs the loop on its own small runtime until the service stops.
pub(crate) fn spawn_driver(shared: Weak<Shared>) {
    let _ = std::thread::Builder::new().name("steward-dispatch".into()).spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("steward-dispatch-io")
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => return tracing::error!("dispatch runtime failed to start: {e}"),
        };
        if let Some(s) = shared.upgrade() {
            let _ = s.dispatch.handle.set(rt.handle().clone());
            let _ = s.dispatch.shared.set(shared.clone());
        }
        rt.block_on(async move {
            loop {
                let Some(s) = shared.upgrade() else { return };
                if s.is_stopping() {
                    // Submitters waiting for a write hear that none will come.
                    if let Ok(mut st) = s.dispatch.state.lock() {
                        st.submitted.clear();
                    }
                    return;
                }
                {
                    let _pass = s.dispatch.pass.lock();
                    step(&s);
                }
                let weak = Arc::downgrade(&s);
                drop(s);
                // Wait for a wake-up without keeping the service alive.
                let wait = async {
                    let Some(s) = weak.upgrade() else { return };
                    let d = &s.dispatch;
                    // "Deciding" first: a pass elsewhere that ends meanwhile wakes us.
                    d.next_look_ms.store(i64::MAX, SeqCst);
                    let poll = d.state.lock().map_or(50, |mut st| st.look_again_in_ms(now_ms()));
                    d.next_look_ms.store(now_ms() + poll as i64, SeqCst);
                    let poll = Duration::from_millis(poll);
                    let _ = tokio::time::timeout(poll, d.wake.notified()).await;
                };
                wait.await;
            }
        });
    });
}

/// Runs a pass on the caller's thread, unless one is running (which then takes the caller's
/// submission, or the next one does: the caller has woken the loop). A submitter that runs
/// its own pass is answered without two thread hand-offs, and its start orders go out over
/// its runtime's own connections.
pub(crate) fn try_pass(shared: &Arc<Shared>) {
    let d = &shared.dispatch;
    // Outside a Tokio runtime (another executor) the loop does it: start orders need one.
    let pass = tokio::runtime::Handle::try_current().ok().and_then(|_| d.pass.try_lock().ok());
    match pass {
        Some(pass) => {
            step(shared);
            drop(pass);
            // Work left for sooner than the loop means to look (it sleeps long, idle) wakes it.
            let now = now_ms();
            let soon = d.state.lock().map_or(0, |mut st| st.look_again_in_ms(now));
            if now + (soon as i64) < d.next_look_ms.load(SeqCst) {
                d.wake.notify_one();
            }
        }
        None => d.wake.notify_one(),
    }
}

/// Writes what changed since the last pass (the service is stopping: no new orders go out).
pub(crate) fn flush(shared: &Shared) {
    let d = &shared.dispatch;
    let _pass = d.pass.lock();
    let written = shared.lock_store().and_then(|mut store| {
        let Ok(mut st) = d.state.lock() else { return Ok(()) };
        let ids: Vec<String> = std::mem::take(&mut st.dirty).into_iter().collect();
        Ok(store.put_executions(ids.iter().filter_map(|id| st.execs.get(id)))?)
    });
    if let Err(e) = written {
        tracing::error!("writing executions at stop failed: {e}");
    }
}

/// Runs a task noop-style (no resources, no slot): the agent acknowledges it without a process.
fn asks_nothing(kind: TaskKind, t: &steward_core::dispatch::TaskSpec) -> bool {
    kind == TaskKind::Noop || (t.cores == 0 && t.memory_bytes == 0 && t.gpus == 0)
}

fn step(shared: &Arc<Shared>) {
    let d = &shared.dispatch;
    let nodes = d.local_clients.localize(d.cached_nodes());
    let cfg = d.settings.engine;
    let grace = d.settings.reattach_grace_ms;
    let started = d.started_ms;
    let result = crate::allocation::with_scheduler(shared, |sched, store, now| {
        let Ok(mut st) = d.state.lock() else { return (Vec::new(), Vec::new(), Vec::new()) };
        let mut actions = Vec::new();
        let mut rel = Releases::default();
        let submissions = std::mem::take(&mut st.submitted);
        let mut fresh = Vec::new();
        let mut replies = Vec::with_capacity(submissions.len());
        for sub in submissions {
            fresh.extend(st.adopt_submitted(sub.execs, now));
            replies.push(sub.written);
        }
        // Liveness: a node that was up and is no longer (or never came back after a restart)
        // loses what it ran; a node seen up again takes new work, its lost attempts stay lost.
        let running_nodes: Vec<String> =
            st.with_attempts().flat_map(|e| e.running_attempts().map(|a| a.node.clone())).collect();
        let mut newly_up = Vec::new();
        let mut candidates: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
        candidates.extend(running_nodes);
        candidates.sort();
        candidates.dedup();
        // By id: a scan per node made a pass quadratic in the cluster's size.
        let by_id: HashMap<&str, &DispatchNode> = nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        for id in candidates {
            let node = by_id.get(id.as_str()).copied();
            let reachable = node.is_some_and(|n| n.liveness != Liveness::Down && n.client.is_some());
            if node.is_some_and(|n| n.liveness == Liveness::Up && n.client.is_some()) {
                if st.seen_up.insert(id.clone()) {
                    newly_up.push(id.clone());
                }
                st.declared_down.remove(&id);
            }
            let lost = !reachable && (st.seen_up.contains(&id) || now - started > grace);
            if lost && !st.declared_down.contains(&id) {
                st.declared_down.insert(id.clone());
                st.seen_up.remove(&id);
                let ids: Vec<String> = st
                    .all_with_attempts()
                    .filter(|e| e.running_attempts().any(|a| a.node == id))
                    .map(|e| e.id.clone())
                    .collect();
                for eid in ids {
                    if let Some(e) = st.execs.get_mut(&eid) {
                        actions.extend(e.node_down(&id, &cfg, &mut rel, now));
                    }
                    st.dirty.insert(eid.clone());
                    st.to_tick.insert(eid.clone());
                    st.settle(&eid, now);
                }
            }
        }
        if !st.unanswered_noops.is_empty() {
            actions.extend(resend_unanswered_noops(&mut st, &nodes));
        }
        st.releases.append(&mut rel.0);
        for r in std::mem::take(&mut st.releases) {
            sched.cancel(&r, now);
        }
        for n in &nodes {
            sched.add_node(n.resources.clone());
        }
        // Executions whose attempts all ended since the last pass leave `started`.
        let full = now.saturating_sub(st.last_full_pass_ms) >= 100;
        let super::State { execs, started, .. } = &mut *st;
        let busy = |id: &String| execs.get(id).is_some_and(|e| e.running_attempts().next().is_some());
        started.retain(busy);
        let mut real = views(&nodes, st.with_attempts());
        // No-op work holds no resources, so it takes no slot.
        let mut free: Vec<_> = real
            .iter()
            .cloned()
            .map(|mut v| {
                v.slots = u32::MAX / 2;
                v
            })
            .collect();
        let running: Vec<String> = if full {
            st.last_full_pass_ms = now;
            let mut ids = std::mem::take(&mut st.to_tick);
            ids.extend(st.timed.iter().cloned());
            ids.into_iter().collect()
        } else {
            std::mem::take(&mut st.to_tick).into_iter().collect()
        };
        let super::State { execs, locality, dirty, started, started_noop, queued, timed, .. } = &mut *st;
        let room = |views: &[NodeLoad]| views.iter().any(|v| v.free() > 0);
        // The oldest queued first, while there is room; then what may start now.
        let mut queue_open = true;
        let mut running = running.into_iter();
        loop {
            let next = if queue_open && room(&real) { queued.pop_first() } else { None };
            queue_open &= next.is_some();
            let Some(id) = next.or_else(|| running.next()) else { break };
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
                e.tick(&mut free, locality, &cfg, &mut Unconstrained, now)
            } else {
                e.tick(&mut real, locality, &cfg, sched, now)
            };
            if !noop && !room(&real) && e.partitions.iter().any(|p| p.state == PartState::Pending) {
                queued.insert(id.clone());
            }
            if e.wants_timer(&cfg) {
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
                actions.extend(acts);
            }
        }
        // A new execution's first start orders go out while it is written (the submitter is
        // answered only after the write); every other attempt is on disk before an agent hears
        // of it.
        let early: Vec<StartOrder> = actions
            .extract_if(.., |a| matches!(a, Action::Start(o) if fresh.contains(&o.execution_id)))
            .filter_map(|a| match a {
                Action::Start(o) => Some(o),
                Action::Cancel { .. } => None,
            })
            .collect();
        if !early.is_empty() {
            let specs = start_specs(&mut st, &early, &d.owner, cfg.output_defaults());
            send_starts(shared, &nodes, early, specs);
        }
        let super::State { execs, dirty, held_starts, attached, .. } = &mut *st;
        let ids: Vec<String> = std::mem::take(dirty).into_iter().collect();
        let written = store.put_executions(ids.iter().filter_map(|id| execs.get(id))).map_err(|e| e.to_string());
        match &written {
            // Start orders held back by a failed write go out now that they are on disk.
            Ok(()) => {
                actions.extend(resend_held(held_starts, attached, execs));
                st.forget_finished(d.settings.kept_finished);
            }
            Err(e) => {
                for a in actions.extract_if(.., |a| matches!(a, Action::Start(_))) {
                    let Action::Start(o) = a else { continue };
                    // A new execution's orders die with it (below); the others wait for a write
                    // that succeeds, and re-attaching must not send them before it.
                    if !fresh.contains(&o.execution_id) {
                        if o.kind == TaskKind::Process {
                            attached.insert(o.attempt_id.clone());
                        }
                        held_starts.push(o);
                    }
                }
                tracing::error!("writing executions failed: {e}; holding back {} start orders", held_starts.len());
                dirty.extend(ids);
                // Never recorded: what went out early is cancelled, the submitter hears it failed.
                for id in &fresh {
                    if let Some(x) = execs.get_mut(id) {
                        actions.extend(x.cancel(&mut rel, now));
                        x.status = ExecStatus::Failed;
                        x.error = Some(format!("could not be recorded: {e}"));
                    }
                }
                st.releases.append(&mut rel.0);
                for id in &fresh {
                    st.settle(id, now);
                }
            }
        }
        (actions, replies.into_iter().map(|r| (r, written.clone())).collect::<Vec<_>>(), newly_up)
    });
    let (actions, replies, newly_up) = match result {
        Ok(a) => a,
        Err(e) => return tracing::warn!("dispatch pass failed: {e}"),
    };
    carry_out(shared, &nodes, actions);
    for (reply, written) in replies {
        let _ = reply.send(written);
    }
    reattach(shared, &nodes);
    for node in newly_up {
        if let Some(client) = client_of(&nodes, &node) {
            spawn_home(shared, super::orphans::sweep(shared.clone(), node, client));
        }
    }
}

/// No-op attempts that were running when the control center last stopped (their answers were
/// lost with it), sent again once their node is up: RunTask is idempotent by id. An attempt
/// whose node is declared down meanwhile was lost with it and is retried like any other.
fn resend_unanswered_noops(st: &mut super::State, nodes: &[DispatchNode]) -> Vec<Action> {
    let mut out = Vec::new();
    for id in std::mem::take(&mut st.unanswered_noops) {
        if !st.runs_attempt(&id) {
            continue;
        }
        let Some(order) = execution_of(&id).and_then(|e| st.execs.get(e)?.start_order(&id)) else { continue };
        if st.declared_down.contains(&order.node) {
            continue;
        }
        if nodes.iter().any(|n| n.id == order.node && n.liveness == Liveness::Up && n.client.is_some()) {
            out.push(Action::Start(order));
        } else {
            st.unanswered_noops.insert(id);
        }
    }
    out
}

/// Held-back start orders whose attempts still run (not cancelled or lost meanwhile).
fn resend_held(
    held: &mut Vec<StartOrder>,
    attached: &mut std::collections::HashSet<String>,
    execs: &std::collections::BTreeMap<String, steward_core::dispatch::Execution>,
) -> Vec<Action> {
    let mut out = Vec::new();
    for o in std::mem::take(held) {
        let runs = execs.get(&o.execution_id).is_some_and(|e| e.running_attempts().any(|a| a.id == o.attempt_id));
        if runs {
            out.push(Action::Start(o));
        } else {
            attached.remove(&o.attempt_id);
        }
    }
    out
}

fn client_of(nodes: &[DispatchNode], id: &str) -> Option<AgentClient> {
    nodes.iter().find(|n| n.id == id).and_then(|n| n.client.clone())
}

fn carry_out(shared: &Arc<Shared>, nodes: &[DispatchNode], actions: Vec<Action>) {
    let d = &shared.dispatch;
    let mut starts = Vec::new();
    let mut cancels = Vec::new();
    for a in actions {
        match a {
            Action::Start(o) => starts.push(o),
            c @ Action::Cancel { .. } => cancels.push(c),
        }
    }
    send_cancels(shared, nodes, cancels);
    if starts.is_empty() {
        return;
    }
    let specs = {
        let Ok(mut st) = d.state.lock() else { return };
        start_specs(&mut st, &starts, &d.owner, d.settings.engine.output_defaults())
    };
    send_starts(shared, nodes, starts, specs);
}

/// The agent's specs of `starts` by attempt (with whether each is a no-op); process attempts
/// count as attached from here on, so re-attaching does not send them a second time.
fn start_specs(
    st: &mut super::State,
    starts: &[StartOrder],
    owner: &str,
    defaults: OutputLimits,
) -> HashMap<String, (proto::TaskSpec, bool)> {
    let mut out = HashMap::new();
    for o in starts {
        let Some(e) = st.execs.get(&o.execution_id) else { continue };
        let noop = o.kind == TaskKind::Noop;
        out.insert(o.attempt_id.clone(), (proto_spec(o, &e.task, owner), noop));
        if !noop {
            let collector = Collector::new(e.task.output.unwrap_or_default(), defaults);
            st.attached.insert(o.attempt_id.clone());
            st.outputs.0.insert(o.attempt_id.clone(), collector);
        }
    }
    out
}

/// Sends `starts`, batched per node, each batch from its own task.
fn send_starts(
    shared: &Arc<Shared>,
    nodes: &[DispatchNode],
    starts: Vec<StartOrder>,
    specs: HashMap<String, (proto::TaskSpec, bool)>,
) {
    let d = &shared.dispatch;
    d.counters.started(starts.len());
    let batched = d.settings.max_batch > 1;
    for (node, group) in batch::batches(starts, d.settings.max_batch) {
        let client = client_of(nodes, &node);
        let shared = shared.clone();
        let group: Vec<(StartOrder, proto::TaskSpec, bool)> =
            group.into_iter().filter_map(|o| specs.get(&o.attempt_id).cloned().map(|(s, noop)| (o, s, noop))).collect();
        // On the runtime that ran the pass, over its own connection (a submitter's, or the
        // executor's); should that runtime stop first, the guard settles the orders.
        tokio::spawn(async move {
            let Some(client) = client else {
                let failed = group
                    .iter()
                    .map(|(o, ..)| {
                        (o.attempt_id.clone(), Err(format!("node {node} has no connection")), AttemptOutput::default())
                    })
                    .collect();
                return finish(&shared, failed);
            };
            let mut unanswered = Unanswered {
                shared: shared.clone(),
                orders: group.iter().map(|(o, _, noop)| (o.attempt_id.clone(), *noop)).collect(),
            };
            let specs: Vec<proto::TaskSpec> = group.iter().map(|(_, s, _)| s.clone()).collect();
            let answer = start(&client, specs, batched).await;
            unanswered.orders.clear();
            match answer {
                Ok(replies) => {
                    let mut by_id: HashMap<String, RunTaskReply> =
                        replies.into_iter().filter_map(|r| Some((r.status.as_ref()?.task_id.clone(), r))).collect();
                    let mut done = Vec::new();
                    // Cancelled here while its order was on its way (the user cancelled, or a
                    // new execution's write failed): it must not run on unwatched.
                    let gone: Vec<String> = match shared.dispatch.state.lock() {
                        Ok(mut st) => {
                            let gone: Vec<String> = group
                                .iter()
                                .filter(|(o, _, noop)| !noop && !st.runs_attempt(&o.attempt_id))
                                .map(|(o, ..)| o.attempt_id.clone())
                                .collect();
                            for id in &gone {
                                st.attached.remove(id);
                                if let Some(c) = st.outputs.0.remove(id) {
                                    c.discard();
                                }
                            }
                            gone
                        }
                        Err(_) => Vec::new(),
                    };
                    for (o, spec, noop) in &group {
                        if gone.contains(&o.attempt_id) {
                            cancel_on(&shared, node.clone(), client.clone(), o.attempt_id.clone());
                            continue;
                        }
                        let Some(reply) = by_id.remove(&o.attempt_id) else {
                            done.push((
                                o.attempt_id.clone(),
                                Err("the agent did not acknowledge the task".into()),
                                AttemptOutput::default(),
                            ));
                            continue;
                        };
                        let ended = reply.status.as_ref().and_then(outcome);
                        match (noop, ended) {
                            (true, Some(out)) => done.push((o.attempt_id.clone(), out, AttemptOutput::default())),
                            (true, None) => {}
                            // Ended within the answer's wait: its lines came with it.
                            (false, Some(_)) => {
                                on_event(
                                    &shared,
                                    &o.attempt_id,
                                    TaskEvent { status: reply.status, lines: reply.lines },
                                );
                            }
                            (false, None) => spawn_watch(&shared, &node, &client, o.attempt_id.clone(), spec.clone()),
                        }
                    }
                    finish(&shared, done);
                }
                Err(e) => {
                    // A process order that may not have arrived is not a failure of the task:
                    // re-attaching resends it (RunTask is idempotent by id) while the node is up,
                    // and its attempt is lost if the node goes down.
                    let unknown = e.outcome_unknown();
                    let why = e.to_string();
                    let mut failed = Vec::new();
                    for (o, _, noop) in &group {
                        if unknown && !*noop {
                            detach(&shared, &o.attempt_id);
                        } else {
                            failed.push((o.attempt_id.clone(), Err(why.clone()), AttemptOutput::default()));
                        }
                    }
                    finish(&shared, failed);
                }
            }
        });
    }
}

/// Start orders sent whose answer has not come back. Dropped unanswered (the runtime that sent
/// them stopped), a process order is left to re-attaching (which resends it: RunTask is
/// idempotent by id) and a no-op one fails, to be retried.
struct Unanswered {
    shared: Arc<Shared>,
    /// (attempt, no-op)
    orders: Vec<(String, bool)>,
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        let mut failed = Vec::new();
        for (attempt, noop) in self.orders.drain(..) {
            if noop {
                failed.push((
                    attempt,
                    Err("its start order went unanswered (the sending runtime stopped)".into()),
                    AttemptOutput::default(),
                ));
            } else {
                detach(&self.shared, &attempt);
            }
        }
        finish(&self.shared, failed);
    }
}

/// Spawns `f` on the executor's runtime: what must outlive the pass's caller (watches, cancels).
fn spawn_home(shared: &Shared, f: impl Future<Output = ()> + Send + 'static) {
    match shared.dispatch.handle.get() {
        Some(rt) => drop(rt.spawn(f)),
        None => drop(tokio::spawn(f)),
    }
}

/// Watches `attempt` from the executor's runtime, over its connection to `node`.
fn spawn_watch(shared: &Arc<Shared>, node: &str, client: &AgentClient, attempt: String, spec: proto::TaskSpec) {
    let d = &shared.dispatch;
    let client = match d.handle.get() {
        Some(rt) => d.local_clients.client_on(rt, node, client),
        None => client.clone(),
    };
    spawn_home(shared, watch(shared.clone(), client, attempt, spec));
}

fn send_cancels(shared: &Shared, nodes: &[DispatchNode], cancels: Vec<Action>) {
    for c in cancels {
        let Action::Cancel { attempt_id, node } = c else { continue };
        if let Some(client) = client_of(nodes, &node) {
            cancel_on(shared, node, client, attempt_id);
        }
    }
}

fn cancel_on(shared: &Shared, node: String, client: AgentClient, attempt_id: String) {
    shared.dispatch.counters.cancel_sent();
    spawn_home(shared, async move {
        if let Err(e) = client.cancel_task(&attempt_id).await {
            tracing::debug!("cancelling {attempt_id} on {node}: {e}");
        }
    });
}

/// Cancels from outside the loop (the user cancelled an execution).
pub(crate) fn carry_out_cancels(shared: &Arc<Shared>, actions: Vec<Action>) {
    send_cancels(shared, &shared.dispatch.cached_nodes(), actions);
}

/// Feeds ended attempts to the engine: (attempt, outcome, output).
fn finish(shared: &Arc<Shared>, done: Vec<(String, Result<(), String>, AttemptOutput)>) {
    if done.is_empty() {
        return;
    }
    let d = &shared.dispatch;
    let cfg = d.settings.engine;
    let now = now_ms();
    let mut actions = Vec::new();
    let urgent;
    {
        let Ok(mut st) = d.state.lock() else { return };
        let mut rel = Releases::default();
        for (attempt, result, output) in done {
            st.attached.remove(&attempt);
            if let Some(c) = st.outputs.0.remove(&attempt) {
                c.discard();
            }
            let spilled = output.cut.is_some_and(|c| c.spilled_bytes > 0);
            let Some(eid) = execution_of(&attempt).map(str::to_string) else { continue };
            let Some(e) = st.execs.get_mut(&eid) else { continue };
            let (ok, error) = match result {
                Ok(()) => (true, None),
                Err(e) => (false, Some(e)),
            };
            d.counters.ended(ok);
            let (accepted, acts) = e.finished(&attempt, ok, output, error, &cfg, &mut rel, now);
            if spilled && accepted != Accepted::Won {
                // Only the result's output is kept.
                let _ = std::fs::remove_file(d.spill.file(&attempt));
            }
            let e_terminal = e.status.is_terminal();
            if e.running_attempts().next().is_none() {
                let kind = e.task.kind;
                st.started_set(kind).remove(&eid);
            }
            actions.extend(acts);
            st.dirty.insert(eid.clone());
            if !e_terminal {
                st.to_tick.insert(eid.clone());
            }
            st.settle(&eid, now);
        }
        st.releases.append(&mut rel.0);
        // A pass is due now only if something may start (a retry, a freed slot, a released
        // dependent); an ended attempt alone is written behind.
        urgent = !actions.is_empty() || !st.to_tick.is_empty() || !st.queued.is_empty();
    }
    d.bump();
    if !actions.is_empty() {
        send_cancels(shared, &d.cached_nodes(), actions);
    }
    if urgent {
        d.wake.notify_one();
    }
}

/// Watches an attempt to its end. An agent that does not know the attempt (the control center
/// stopped between writing it down and sending it) is sent it now: RunTask is idempotent by id,
/// so this never starts it twice.
async fn watch(shared: Arc<Shared>, client: AgentClient, attempt: String, spec: proto::TaskSpec) {
    let mut stream = match client.watch_task(&attempt, 0).await {
        Ok(s) => s,
        Err(AgentError::Rpc { code: tonic::Code::NotFound, .. }) => match client.run_task(spec).await {
            Ok(_) => match client.watch_task(&attempt, 0).await {
                Ok(s) => s,
                Err(_) => return detach(&shared, &attempt),
            },
            Err(e) if e.outcome_unknown() => return detach(&shared, &attempt),
            Err(e) => return finish(&shared, vec![(attempt, Err(e.to_string()), AttemptOutput::default())]),
        },
        Err(_) => return detach(&shared, &attempt),
    };
    loop {
        match stream.message().await {
            Ok(Some(ev)) => {
                if on_event(&shared, &attempt, ev) {
                    return;
                }
            }
            // The stream broke: the node's liveness decides; if it stays up we re-attach.
            Ok(None) | Err(_) => return detach(&shared, &attempt),
        }
    }
}

fn detach(shared: &Arc<Shared>, attempt: &str) {
    if let Ok(mut st) = shared.dispatch.state.lock() {
        st.attached.remove(attempt);
    }
}

/// One watch event; true when the attempt ended.
fn on_event(shared: &Arc<Shared>, attempt: &str, ev: TaskEvent) -> bool {
    let d = &shared.dispatch;
    let tail = d.settings.log_tail;
    let end = ev.status.as_ref().and_then(outcome);
    let output = {
        let Ok(mut st) = d.state.lock() else { return true };
        let limits = execution_of(attempt).and_then(|e| st.execs.get(e)?.task.output).unwrap_or_default();
        let defaults = d.settings.engine.output_defaults();
        let collector = st.outputs.0.entry(attempt.to_string()).or_insert_with(|| Collector::new(limits, defaults));
        let seen = collector.take(&ev.lines, &d.spill, attempt);
        let progress = ev.status.as_ref().map(|s| s.progress).filter(|p| *p >= 0.0);
        if let Some(eid) = execution_of(attempt).map(str::to_string)
            && let Some(e) = st.execs.get_mut(&eid)
        {
            e.observe(attempt, progress, seen.checkpoint.clone(), &seen.tail, tail);
            if seen.checkpoint.is_some() {
                st.dirty.insert(eid);
            }
        }
        if end.is_none() {
            return false;
        }
        st.outputs.0.remove(attempt).map(Collector::finish).unwrap_or_default()
    };
    finish(shared, vec![(attempt.to_string(), end.unwrap_or(Ok(())), output)]);
    true
}

/// Starts watching running process attempts nobody watches (after a restart, or a broken
/// stream) on nodes that are reachable.
fn reattach(shared: &Arc<Shared>, nodes: &[DispatchNode]) {
    let d = &shared.dispatch;
    let defaults = d.settings.engine.output_defaults();
    let mut todo = Vec::new();
    {
        let Ok(mut st) = d.state.lock() else { return };
        let mut want = Vec::new();
        for e in st.with_attempts().filter(|e| e.task.kind == TaskKind::Process) {
            for p in &e.partitions {
                for a in p.attempts.iter().filter(|a| a.state == AttemptState::Running) {
                    if st.attached.contains(&a.id) || st.declared_down.contains(&a.node) {
                        continue;
                    }
                    let Some(client) = nodes
                        .iter()
                        .find(|n| n.id == a.node && n.liveness != Liveness::Down)
                        .and_then(|n| n.client.clone())
                    else {
                        continue;
                    };
                    let Some(order) = e.start_order(&a.id) else { continue };
                    let collector = Collector::new(e.task.output.unwrap_or_default(), defaults);
                    want.push((a.node.clone(), client, a.id.clone(), proto_spec(&order, &e.task, &d.owner), collector));
                }
            }
        }
        for (node, client, id, spec, collector) in want {
            st.attached.insert(id.clone());
            // A broken stream's collector goes on: the lines it has are skipped when sent again.
            st.outputs.0.entry(id.clone()).or_insert(collector);
            todo.push((node, client, id, spec));
        }
    }
    for (node, client, id, spec) in todo {
        spawn_watch(shared, &node, &client, id, spec);
    }
}
