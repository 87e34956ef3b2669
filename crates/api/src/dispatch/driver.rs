//! The executor's loop and its I/O. Passes (`pass.rs`) run from the loop (on a wake-up: an agent
//! reported, a task arrived; or every 50 ms while busy) or from a submitter when no pass is
//! running; after each, the driver sends the start orders (batched per node) and cancels it
//! answered, answers the submitters, re-attaches to attempts nobody watches (after a restart, or
//! a dropped stream) and sweeps nodes newly up for orphans. Agents' answers and watch events
//! come back through `finish` and `on_event`.

use std::collections::HashMap;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Weak};
use std::time::Duration;

use steward_agent::proto::{self, RunTaskReply, TaskEvent};
use steward_agent::{AgentClient, AgentError};
use steward_core::dispatch::{
    Accepted, Action, AttemptOutput, AttemptState, Grant, OutputLimits, PartitionAsk, Placer, StartOrder, TaskKind,
    batch, execution_of,
};

use super::agent_io::{outcome, proto_spec, start};
use super::nodes::NodesById;
use super::output::Collector;
use super::{Dispatcher, Liveness, pass};
use crate::clock::now_ms;

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
pub(crate) fn spawn_driver(dispatcher: Weak<Dispatcher>) {
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
        if let Some(d) = dispatcher.upgrade() {
            let _ = d.handle.set(rt.handle().clone());
        }
        rt.block_on(async move {
            loop {
                let Some(s) = dispatcher.upgrade() else { return };
                if s.ctx.stop.is_raised() {
                    // Submitters waiting for a write hear that none will come.
                    if let Ok(mut st) = s.state.lock() {
                        st.submitted.clear();
                    }
                    return;
                }
                {
                    let _pass = s.pass.lock();
                    step(&s);
                }
                let weak = Arc::downgrade(&s);
                drop(s);
                // Wait for a wake-up without keeping the service alive.
                let wait = async {
                    let Some(s) = weak.upgrade() else { return };
                    let d = &s;
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
pub(crate) fn try_pass(d: &Arc<Dispatcher>) {
    // Outside a Tokio runtime (another executor) the loop does it: start orders need one.
    let pass = tokio::runtime::Handle::try_current().ok().and_then(|_| d.pass.try_lock().ok());
    match pass {
        Some(pass) => {
            step(d);
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
pub(crate) fn flush(d: &Dispatcher) {
    let _pass = d.pass.lock();
    let written = d.ctx.store.lock().and_then(|mut store| {
        let Ok(mut st) = d.state.lock() else { return Ok(()) };
        let ids: Vec<String> = std::mem::take(&mut st.dirty).into_iter().collect();
        Ok(store.put_executions(ids.iter().filter_map(|id| st.execs.get(id)))?)
    });
    if let Err(e) = written {
        tracing::error!("writing executions at stop failed: {e}");
    }
}

fn step(d: &Arc<Dispatcher>) {
    let nodes = NodesById::new(d.local_clients.localize(d.cached_nodes()));
    let outcome = crate::allocation::with_scheduler(&d.ctx.allocations, |sched, store, now| {
        pass::run(d, &nodes, sched, store, now)
    });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return tracing::warn!("dispatch pass failed: {e}"),
    };
    carry_out(d, &nodes, outcome.actions);
    for (reply, written) in outcome.replies {
        let _ = reply.send(written);
    }
    reattach(d, &nodes);
    for node in outcome.newly_up {
        if let Some(client) = nodes.client(&node) {
            spawn_home(d, super::orphans::sweep(d.clone(), node, client));
        }
    }
}

/// Held-back start orders whose attempts still run (not cancelled or lost meanwhile).
pub(super) fn resend_held(
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

fn carry_out(d: &Arc<Dispatcher>, nodes: &NodesById, actions: Vec<Action>) {
    let mut starts = Vec::new();
    let mut cancels = Vec::new();
    for a in actions {
        match a {
            Action::Start(o) => starts.push(o),
            c @ Action::Cancel { .. } => cancels.push(c),
        }
    }
    send_cancels(d, nodes, cancels);
    if starts.is_empty() {
        return;
    }
    let specs = {
        let Ok(mut st) = d.state.lock() else { return };
        start_specs(&mut st, &starts, &d.owner, d.settings.engine.output_defaults())
    };
    send_starts(d, nodes, starts, specs);
}

/// The agent's specs of `starts` by attempt (with whether each is a no-op); process attempts
/// count as attached from here on, so re-attaching does not send them a second time.
pub(super) fn start_specs(
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
pub(super) fn send_starts(
    d: &Arc<Dispatcher>,
    nodes: &NodesById,
    starts: Vec<StartOrder>,
    specs: HashMap<String, (proto::TaskSpec, bool)>,
) {
    d.counters.started(starts.len());
    let batched = d.settings.max_batch > 1;
    for (node, group) in batch::batches(starts, d.settings.max_batch) {
        let client = nodes.client(&node);
        let d = d.clone();
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
                return finish(&d, failed);
            };
            let mut unanswered = Unanswered {
                d: d.clone(),
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
                    let gone: Vec<String> = match d.state.lock() {
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
                            cancel_on(&d, node.clone(), client.clone(), o.attempt_id.clone());
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
                                on_event(&d, &o.attempt_id, TaskEvent { status: reply.status, lines: reply.lines });
                            }
                            (false, None) => spawn_watch(&d, &node, &client, o.attempt_id.clone(), spec.clone()),
                        }
                    }
                    finish(&d, done);
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
                            detach(&d, &o.attempt_id);
                        } else {
                            failed.push((o.attempt_id.clone(), Err(why.clone()), AttemptOutput::default()));
                        }
                    }
                    finish(&d, failed);
                }
            }
        });
    }
}

/// Start orders sent whose answer has not come back. Dropped unanswered (the runtime that sent
/// them stopped), a process order is left to re-attaching (which resends it: RunTask is
/// idempotent by id) and a no-op one fails, to be retried.
struct Unanswered {
    d: Arc<Dispatcher>,
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
                detach(&self.d, &attempt);
            }
        }
        finish(&self.d, failed);
    }
}

/// Spawns `f` on the executor's runtime: what must outlive the pass's caller (watches, cancels).
fn spawn_home(d: &Dispatcher, f: impl Future<Output = ()> + Send + 'static) {
    match d.handle.get() {
        Some(rt) => drop(rt.spawn(f)),
        None => drop(tokio::spawn(f)),
    }
}

/// Watches `attempt` from the executor's runtime, over its connection to `node`.
fn spawn_watch(d: &Arc<Dispatcher>, node: &str, client: &AgentClient, attempt: String, spec: proto::TaskSpec) {
    let client = match d.handle.get() {
        Some(rt) => d.local_clients.client_on(rt, node, client),
        None => client.clone(),
    };
    spawn_home(d, watch(d.clone(), client, attempt, spec));
}

fn send_cancels(d: &Dispatcher, nodes: &NodesById, cancels: Vec<Action>) {
    for c in cancels {
        let Action::Cancel { attempt_id, node } = c else { continue };
        if let Some(client) = nodes.client(&node) {
            cancel_on(d, node, client, attempt_id);
        }
    }
}

fn cancel_on(d: &Dispatcher, node: String, client: AgentClient, attempt_id: String) {
    d.counters.cancel_sent();
    spawn_home(d, async move {
        if let Err(e) = client.cancel_task(&attempt_id).await {
            tracing::debug!("cancelling {attempt_id} on {node}: {e}");
        }
    });
}

/// Cancels from outside the loop (the user cancelled an execution).
pub(crate) fn carry_out_cancels(d: &Dispatcher, actions: Vec<Action>) {
    send_cancels(d, &NodesById::new(d.cached_nodes()), actions);
}

/// Feeds ended attempts to the engine: (attempt, outcome, output).
fn finish(d: &Arc<Dispatcher>, done: Vec<(String, Result<(), String>, AttemptOutput)>) {
    if done.is_empty() {
        return;
    }
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
        send_cancels(d, &NodesById::new(d.cached_nodes()), actions);
    }
    if urgent {
        d.wake.notify_one();
    }
}

/// Watches an attempt to its end. An agent that does not know the attempt (the control center
/// stopped between writing it down and sending it) is sent it now: RunTask is idempotent by id,
/// so this never starts it twice.
async fn watch(d: Arc<Dispatcher>, client: AgentClient, attempt: String, spec: proto::TaskSpec) {
    let mut stream = match client.watch_task(&attempt, 0).await {
        Ok(s) => s,
        Err(AgentError::Rpc { code: tonic::Code::NotFound, .. }) => match client.run_task(spec).await {
            Ok(_) => match client.watch_task(&attempt, 0).await {
                Ok(s) => s,
                Err(_) => return detach(&d, &attempt),
            },
            Err(e) if e.outcome_unknown() => return detach(&d, &attempt),
            Err(e) => return finish(&d, vec![(attempt, Err(e.to_string()), AttemptOutput::default())]),
        },
        Err(_) => return detach(&d, &attempt),
    };
    loop {
        match stream.message().await {
            Ok(Some(ev)) => {
                if on_event(&d, &attempt, ev) {
                    return;
                }
            }
            // The stream broke: the node's liveness decides; if it stays up we re-attach.
            Ok(None) | Err(_) => return detach(&d, &attempt),
        }
    }
}

fn detach(d: &Arc<Dispatcher>, attempt: &str) {
    if let Ok(mut st) = d.state.lock() {
        st.attached.remove(attempt);
    }
}

/// One watch event; true when the attempt ended.
fn on_event(d: &Arc<Dispatcher>, attempt: &str, ev: TaskEvent) -> bool {
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
    finish(d, vec![(attempt.to_string(), end.unwrap_or(Ok(())), output)]);
    true
}

/// Starts watching running process attempts nobody watches (after a restart, or a broken
/// stream) on nodes that are reachable.
fn reattach(d: &Arc<Dispatcher>, nodes: &NodesById) {
    let defaults = d.settings.engine.output_defaults();
    let mut todo = Vec::new();
    {
        let Ok(mut st) = d.state.lock() else { return };
        let mut want = Vec::new();
        for e in st.with_attempts().filter(|e| e.task.kind == TaskKind::Process) {
            for p in &e.partitions {
                for a in p.attempts.iter().filter(|a| a.state == AttemptState::Running) {
                    if st.attached.contains(&a.id) || st.liveness.is_down(&a.node) {
                        continue;
                    }
                    let Some(client) =
                        nodes.get(&a.node).filter(|n| n.liveness != Liveness::Down).and_then(|n| n.client.clone())
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
        spawn_watch(d, &node, &client, id, spec);
    }
}
