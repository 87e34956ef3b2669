//! The scheduler: the one place that decides who holds what. Pure and deterministic: every
//! operation takes `now_ms`, and every change it makes is queued in [`Changes`] for the caller
//! to persist before answering.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::fair_share::FairShare;
use super::model::NodeResources;
use super::nodes::{Ask, Capacity, NodeAllocState};
use super::quota;
use super::record::{AllocState, Allocation, Event, NodeAvailability, Refusal, Reservation};
use super::request::{AllocationRequest, Constraints, PreemptionMode, PriorityClass, Qos, ResourceAmount};
use super::reservations::ResvState;
use super::victims::{Bound, Cand, node_bounds};

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Most an owner may hold at once (running); owners not listed are unlimited.
    pub quotas: BTreeMap<String, ResourceAmount>,
    /// Fair-share usage halves every this many ms.
    pub fair_share_half_life_ms: i64,
    /// Two endless repeating reservations are compared over this span.
    pub overlap_horizon_ms: i64,
    /// A down node's running allocations are given up after this long (it may come back).
    pub node_down_grace_ms: i64,
    /// Power budgets per node and for the cluster; `None`: power is not scheduled.
    pub power_budget: Option<super::PowerBudget>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            quotas: BTreeMap::new(),
            fair_share_half_life_ms: 7 * 86_400_000,
            overlap_horizon_ms: 400 * 86_400_000,
            node_down_grace_ms: 30_000,
            power_budget: None,
        }
    }
}

/// What changed since the last [`Scheduler::take_changes`]: the caller commits it.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub allocations: Vec<Allocation>,
    pub reservations: Vec<Reservation>,
    pub deleted_reservations: Vec<String>,
    pub events: Vec<Event>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.allocations.is_empty()
            && self.reservations.is_empty()
            && self.deleted_reservations.is_empty()
            && self.events.is_empty()
    }
}

/// Counters that tests and benchmarks use to check that cases really happened.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub placed: u64,
    pub backfilled: u64,
    pub preemptions: u64,
    pub shrinks: u64,
    pub refused_overlaps: u64,
    pub refused_busy: u64,
    pub evictions: u64,
}

/// The head of the queue's promise under EASY backfill: `need` on `node` at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shadow {
    pub alloc: u32,
    pub node: u32,
    pub at: i64,
}

/// An entry of `by_victim_bound`: the victims' bound (max priority, count, work lost), then the node.
pub(super) type VictimKey = (i32, u32, Reverse<i64>, u32);

/// The allocation engine. Its fields are grouped by what they are for, so a method says what it
/// touches: `state` is the truth (nodes, allocations, reservations); `index` is derived from it
/// and kept in step by the methods that change it; `owners` is quota use and fair share; `pass`
/// is what scheduling passes remember between requests (caches that only ever save work);
/// `journal` is what changed since the caller last took the changes.
pub struct Scheduler {
    pub(super) config: SchedulerConfig,
    pub(super) state: State,
    pub(super) index: Indexes,
    pub(super) owners: Owners,
    pub(super) pass: PassMemo,
    journal: Journal,
    pub stats: Stats,
}

/// Nodes, allocations and reservations as they are.
#[derive(Default)]
pub(super) struct State {
    pub(super) nodes: Vec<NodeAllocState>,
    pub(super) allocs: Vec<Allocation>,
    pub(super) asks: Vec<Ask>,
    /// Per allocation: the node it runs on (`u32::MAX` when not running).
    pub(super) alloc_node: Vec<u32>,
    pub(super) resvs: BTreeMap<String, ResvState>,
    /// Preemptor → number of victims still running out their grace.
    pub(super) awaiting: HashMap<u32, u32>,
    /// Stand-in nodes (see `restore`) whose down grace starts at the next tick.
    pub(super) stand_ins_unarmed: Vec<u32>,
    /// QoS classes degradation holds (see `hold`), and why.
    pub(super) held: BTreeSet<Qos>,
    pub(super) held_why: String,
}

/// Lookups and orders over `State`, so a request needs no scan of every node or allocation.
#[derive(Default)]
pub(super) struct Indexes {
    /// Every node ever added (removed ones stay as tombstones: node numbers never change).
    pub(super) node_index: HashMap<String, u32>,
    pub(super) alloc_index: HashMap<String, u32>,
    /// (idle whole GPUs, node): best-fit search without scanning every node.
    pub(super) by_free_gpus: BTreeSet<(u32, u32)>,
    /// (lowest preemptable priority, node) for nodes running something preemptable.
    pub(super) by_min_prio: BTreeSet<(i32, u32)>,
    pub(super) node_min_prio: Vec<Option<i32>>,
    /// Per GPU count g (index g - 1): (victim bound, node) for every node where preemption
    /// could free g GPUs, best bound first (see `victims`).
    pub(super) by_victim_bound: Vec<BTreeSet<VictimKey>>,
    pub(super) node_bounds: Vec<Vec<Option<Bound>>>,
    /// Nodes running at least one allocation that could still be shrunk.
    pub(super) shrinkable_nodes: BTreeSet<u32>,
    /// Nodes whose entries in `by_victim_bound` and `shrinkable_nodes` are out of date: a node
    /// that changes many times between two preemption searches is refreshed once, and never
    /// while nothing could be preempted. Only `try_preempt` reads those two indexes, and
    /// `try_start` flushes before calling it (`by_min_prio` is always current).
    pub(super) stale: Vec<bool>,
    pub(super) stale_nodes: Vec<u32>,
    /// Queued allocations: higher priority first, then older, then (ties) fair share and id.
    pub(super) queue: BTreeSet<(Reverse<i32>, i64, u32)>,
    /// (end time, allocation) of running allocations with an end.
    pub(super) ends: BTreeSet<(i64, u32)>,
    /// (grace deadline, victim) of allocations being preempted.
    pub(super) deadlines: BTreeSet<(i64, u32)>,
    /// (grace deadline, node) of down nodes whose running allocations will be given up.
    pub(super) down_deadlines: BTreeSet<(i64, u32)>,
    /// Running guaranteed allocations by priority (never fewer than there are): a waiting
    /// request looks for guaranteed holders to name only when one of lower priority runs.
    pub(super) guaranteed_running: BTreeMap<i32, u32>,
}

/// What each owner holds (for quotas) and has used (for fair share).
pub(super) struct Owners {
    /// Resources each owner holds running.
    pub(super) held: HashMap<String, ResourceAmount>,
    pub(super) fair: FairShare,
    /// Per allocation: its owner's number, so the fair-share order needs no string lookups.
    pub(super) owner_no: Vec<u32>,
    pub(super) owner_nos: HashMap<String, u32>,
    pub(super) owner_names: Vec<String>,
    /// Per owner number: (group stamp, usage) cached while a pass orders one group.
    pub(super) owner_usage: Vec<(u64, f64)>,
    pub(super) group_stamp: u64,
}

/// What scheduling passes remember between requests: each only saves work.
#[derive(Default)]
pub(super) struct PassMemo {
    /// Bumped whenever resources are released; a shape that failed to fit in this epoch is not
    /// searched again until something frees up.
    pub(super) release_epoch: u64,
    pub(super) failed_shapes: HashMap<(Ask, u64), u64>,
    /// (priority, ask) of requests that found no victims in the current pass.
    pub(super) preempt_failures: Vec<(i32, Ask, Option<u64>)>,
    pub(super) shadow: Option<Shadow>,
    /// Per allocation: a pass left it waiting for resources with the general reason, and it
    /// asks nothing a pass treats specially (reservation, pinned node, `min`, GPU share, owner
    /// quota). While a pass's shadow is set, such a request is passed over without a visit when
    /// it cannot fit nor preempt (see `schedule`). Any change to the record ([`Scheduler::mark`]) clears it.
    pub(super) waits_idle: Vec<bool>,
    #[cfg(test)]
    pub(super) reference_pass: bool,
}

/// Changes not yet taken by the caller ([`Scheduler::take_changes`]).
struct Journal {
    dirty_allocs: Vec<u32>,
    dirty_flag: Vec<bool>,
    dirty_resvs: BTreeSet<String>,
    deleted_resvs: Vec<String>,
    events: Vec<Event>,
    next_event_id: i64,
}

impl Scheduler {
    pub fn new(config: SchedulerConfig, nodes: Vec<NodeResources>) -> Scheduler {
        let mut s = Scheduler {
            owners: Owners {
                held: HashMap::new(),
                fair: FairShare::new(config.fair_share_half_life_ms),
                owner_no: Vec::new(),
                owner_nos: HashMap::new(),
                owner_names: Vec::new(),
                owner_usage: Vec::new(),
                group_stamp: 0,
            },
            config,
            state: State::default(),
            index: Indexes::default(),
            pass: PassMemo::default(),
            journal: Journal {
                dirty_allocs: Vec::new(),
                dirty_flag: Vec::new(),
                dirty_resvs: BTreeSet::new(),
                deleted_resvs: Vec::new(),
                events: Vec::new(),
                next_event_id: 1,
            },
            stats: Stats::default(),
        };
        for n in nodes {
            s.add_node(n);
        }
        s
    }

    /// Rebuilds the scheduler from persisted records (after a restart). Records are trusted:
    /// they were written by a scheduler that kept the invariants. What runs on a node not in
    /// `nodes` (a remote node that has not reconnected yet) stays as it is, on a stand-in node,
    /// until the node joins or the down grace passes; reservations there are kept too.
    pub fn restore(
        config: SchedulerConfig,
        nodes: Vec<NodeResources>,
        reservations: Vec<Reservation>,
        allocations: Vec<Allocation>,
        next_event_id: i64,
    ) -> Scheduler {
        let mut s = Scheduler::new(config, nodes);
        s.journal.next_event_id = next_event_id.max(1);
        for res in super::node_lifecycle::stand_ins(&s.index.node_index, &reservations, &allocations) {
            s.add_stand_in(res);
        }
        for r in reservations {
            if let Some(state) = ResvState::build(&s, r) {
                s.insert_resv(state);
            }
        }
        for a in allocations {
            let idx = s.push_alloc(a);
            let a = &s.state.allocs[idx as usize];
            match a.state {
                AllocState::Running => {
                    let node = a.node.as_ref().and_then(|n| s.index.node_index.get(n)).copied();
                    let slots = node.map(|n| {
                        let res = &s.state.nodes[n as usize].res;
                        a.gpus.iter().filter_map(|g| res.gpu_slot(g)).collect::<Vec<_>>()
                    });
                    match (node, slots) {
                        (Some(n), Some(slots)) => s.occupy(idx, n, &slots),
                        _ => s.requeue_lost(idx),
                    }
                }
                st if st.is_queued() => {
                    s.index.queue.insert(s.queue_key(idx));
                }
                _ => {}
            }
        }
        for idx in 0..s.state.allocs.len() as u32 {
            if let Some(p) = &s.state.allocs[idx as usize].preemption {
                let by = s.index.alloc_index.get(&p.by).copied();
                s.index.deadlines.insert((p.at, idx));
                if let Some(by) = by {
                    *s.state.awaiting.entry(by).or_default() += 1;
                }
            }
        }
        // Restored records are already persisted.
        s.take_changes();
        s
    }

    pub fn add_node(&mut self, res: NodeResources) {
        if self.index.node_index.contains_key(&res.node) {
            return;
        }
        let n = self.state.nodes.len() as u32;
        self.index.node_index.insert(res.node.clone(), n);
        let state = NodeAllocState::new(res);
        self.index.by_free_gpus.insert((state.free_whole_gpus(), n));
        self.state.nodes.push(state);
        self.index.node_min_prio.push(None);
        self.index.node_bounds.push(Vec::new());
        self.index.stale.push(false);
        self.pass.release_epoch += 1;
    }

    /// The nodes in the cluster (removed ones are left out).
    pub fn nodes(&self) -> impl Iterator<Item = &NodeResources> {
        self.state.nodes.iter().filter(|n| n.listed()).map(|n| &n.res)
    }

    pub fn allocation(&self, id: &str) -> Option<&Allocation> {
        self.index.alloc_index.get(id).map(|&i| &self.state.allocs[i as usize])
    }

    pub fn allocations(&self) -> &[Allocation] {
        &self.state.allocs
    }

    /// How many allocations wait in the queue.
    pub fn queued(&self) -> usize {
        self.index.queue.len()
    }

    pub fn shadow(&self) -> Option<Shadow> {
        self.pass.shadow
    }

    /// The changes made since the last call, for the caller to persist.
    pub fn take_changes(&mut self) -> Changes {
        let allocations = self.journal.dirty_allocs.drain(..).map(|i| self.state.allocs[i as usize].clone()).collect();
        self.journal.dirty_flag.iter_mut().for_each(|f| *f = false);
        let reservations = std::mem::take(&mut self.journal.dirty_resvs)
            .into_iter()
            .filter_map(|id| self.state.resvs.get(&id).map(|r| r.rec.clone()))
            .collect();
        Changes {
            allocations,
            reservations,
            deleted_reservations: std::mem::take(&mut self.journal.deleted_resvs),
            events: std::mem::take(&mut self.journal.events),
        }
    }

    /// Accepts an allocation request (already validated, `id` filled in): starts it now if it
    /// fits (shrinking or preempting lower priorities if needed), or queues it. Refuses what
    /// could never run, with the reason and what is free.
    pub fn allocate(&mut self, req: AllocationRequest, now: i64) -> Result<Allocation, Refusal> {
        if let Some(existing) = req.id.as_ref().and_then(|id| self.allocation(id)) {
            return Ok(existing.clone());
        }
        let wait = req.queue;
        let idx = self.admit(req, now)?;
        self.schedule(now);
        let a = &self.state.allocs[idx as usize];
        if !wait && a.state != AllocState::Running && !self.state.awaiting.contains_key(&idx) {
            let why = a.pending_reason.clone().unwrap_or_default();
            let req = self.withdraw(idx, now);
            return Err(self.refusal(format!("cannot start now: {why}"), &req));
        }
        Ok(self.state.allocs[idx as usize].clone())
    }

    /// Takes back a request admitted but refused (`queue: false`): a refusal is an answer, not
    /// a record. It is the newest allocation (a pass admits nothing), and it holds nothing; if
    /// the pass promised it the backfill shadow, the queue is passed over again without it.
    fn withdraw(&mut self, idx: u32, now: i64) -> Arc<AllocationRequest> {
        debug_assert_eq!(idx as usize + 1, self.state.allocs.len(), "only the newest allocation is withdrawn");
        self.index.queue.remove(&self.queue_key(idx));
        let a = self.state.allocs.pop().expect("admitted");
        self.index.alloc_index.remove(&a.id);
        self.state.asks.pop();
        self.state.alloc_node.pop();
        self.owners.owner_no.pop();
        self.pass.waits_idle.pop();
        if self.journal.dirty_flag.pop() == Some(true) {
            self.journal.dirty_allocs.retain(|&i| i != idx);
        }
        self.journal.events.retain(|e| e.subject != a.id);
        if self.pass.shadow.is_some_and(|s| s.alloc == idx) {
            self.pass.shadow = None;
            self.pass.release_epoch += 1;
            self.schedule(now);
        }
        a.request
    }

    /// Queues a request without scheduling (batch submission; the next `tick`/`schedule`
    /// considers it). Refuses what could never run.
    pub fn enqueue(&mut self, req: AllocationRequest, now: i64) -> Result<(), Refusal> {
        if req.id.as_ref().is_some_and(|id| self.index.alloc_index.contains_key(id)) {
            return Ok(());
        }
        self.admit(req, now).map(|_| ())
    }

    fn admit(&mut self, req: AllocationRequest, now: i64) -> Result<u32, Refusal> {
        let id = req.id.clone().unwrap_or_default();
        let ask = Ask::of(&req);
        let reservation = match &req.reservation {
            Some(r) => match self.resolve_resv(r) {
                Some(id) => Some(id),
                None => return Err(self.refusal(format!("no reservation named {r:?}"), &req)),
            },
            None => None,
        };
        if let Some(r) = &reservation {
            let rs = &self.state.resvs[r];
            let pooled = rs.rec.cores > 0 || rs.rec.memory_bytes > 0;
            let fits = ask.gpus as usize <= rs.rec.gpus.len()
                && (!pooled || (ask.cores <= rs.rec.cores && ask.mem <= rs.rec.memory_bytes));
            if !fits {
                return Err(self.refusal(format!("reservation {:?} is smaller than the request", rs.rec.name), &req));
            }
            if rs.series.next(now).is_none() {
                return Err(self.refusal(format!("reservation {:?} has ended", rs.rec.name), &req));
            }
        } else if let Some(unknown) = self.unknown_node(&req.constraints) {
            return Err(self.refusal(unknown, &req));
        } else if !self.state.nodes.iter().any(|n| n.listed() && n.could_hold(&ask, &req.constraints)) {
            return Err(self.refusal("no node can ever hold this request (capacity or constraints)".into(), &req));
        }
        if let Some(q) = self.config.quotas.get(&req.owner) {
            // A request with `min` may start anywhere between it and its full size.
            let least = match req.resources.min.filter(|_| ask.gpu_share.is_none()) {
                Some(m) => ResourceAmount {
                    gpus: m.gpus.min(ask.gpus),
                    cores: m.cores.min(ask.cores),
                    memory_bytes: m.memory_bytes.min(ask.mem),
                },
                None => quota::amount(&ask),
            };
            if let Some(why) = quota::excess(&req.owner, q, &ResourceAmount::default(), &least) {
                return Err(self.refusal(why, &req));
            }
        }
        let priority = req.priority_value();
        let alloc = Allocation {
            id: id.clone(),
            owner: req.owner.clone(),
            state: AllocState::Pending,
            pending_reason: Some("waiting for the scheduler".into()),
            priority,
            priority_class: PriorityClass::of(priority).name().into(),
            qos: req.qos,
            node: None,
            gpus: Vec::new(),
            gpu_memory_bytes: req.resources.gpu_memory_bytes,
            cores: req.resources.cores,
            memory_bytes: req.resources.memory_bytes,
            start_time: None,
            end_time: None,
            reservation,
            submitted_time: now,
            preemption: None,
            preemptions: 0,
            request: Arc::new(req),
        };
        let idx = self.push_alloc(alloc);
        self.index.queue.insert(self.queue_key(idx));
        self.mark(idx);
        Ok(idx)
    }

    /// "no node named X" (with the nodes there are) when the constraints name a node the
    /// cluster does not have.
    fn unknown_node(&self, c: &Constraints) -> Option<String> {
        let name = c.node.as_ref()?;
        if self.index.node_index.get(name).is_some_and(|&n| self.state.nodes[n as usize].listed()) {
            return None;
        }
        let known: Vec<&str> = self.nodes().map(|n| n.node.as_str()).collect();
        Some(format!("no node named {name:?} (nodes: {})", known.join(", ")))
    }

    /// Cancels an allocation (running or queued). Unknown ids are `None`.
    pub fn cancel(&mut self, id: &str, now: i64) -> Option<Allocation> {
        self.end(id, now, AllocState::Cancelled, "cancelled by the user")
    }

    /// Releases a dispatch attempt's allocation because the attempt ended (however it ended:
    /// the execution records that): a running one finished, it was not cancelled by anyone.
    pub fn release_attempt(&mut self, id: &str, now: i64) -> Option<Allocation> {
        self.end(id, now, AllocState::Finished, "released: its partition attempt ended")
    }

    /// Ends a running allocation as `running_to` (a queued one is cancelled), saying `why`.
    fn end(&mut self, id: &str, now: i64, running_to: AllocState, why: &str) -> Option<Allocation> {
        let idx = *self.index.alloc_index.get(id)?;
        let state = self.state.allocs[idx as usize].state;
        if state == AllocState::Running {
            self.release(idx, now, running_to, why.into());
        } else if state.is_queued() {
            self.index.queue.remove(&self.queue_key(idx));
            self.state.awaiting.remove(&idx);
            let a = &mut self.state.allocs[idx as usize];
            a.state = AllocState::Cancelled;
            a.pending_reason = Some(why.into());
            self.mark(idx);
        }
        self.schedule(now);
        Some(self.state.allocs[idx as usize].clone())
    }

    /// Advances time: ends what is due, finishes grace periods, evicts what a starting
    /// reservation displaces, then schedules.
    pub fn tick(&mut self, now: i64) {
        self.expire_down_nodes(now);
        while let Some(&(at, idx)) = self.index.deadlines.first() {
            if at > now {
                break;
            }
            self.index.deadlines.pop_first();
            self.finish_preemption(idx, now);
        }
        while let Some(&(end, idx)) = self.index.ends.first() {
            if end > now {
                break;
            }
            self.index.ends.pop_first();
            self.end_due(idx, end);
        }
        self.evict_for_reservations(now);
        self.schedule(now);
    }

    /// An allocation reached its end: finished, or (inside a reservation that ended before the
    /// allocation did) handled by its preemption mode.
    fn end_due(&mut self, idx: u32, end: i64) {
        let a = &self.state.allocs[idx as usize];
        let own_end = a.request.duration_s.map(|d| a.start_time.unwrap_or(end) + d as i64 * 1000);
        let cut_by_resv = a.reservation.is_some() && own_end.is_none_or(|e| e > end);
        if cut_by_resv {
            let resv = a.reservation.clone().unwrap_or_default();
            let why = format!("reservation {resv} ended");
            let mode = a.request.preemption.mode;
            self.event(end, "ended", idx, why.clone(), &[]);
            // With no later occurrence to wait for, the run is over: its record keeps where and
            // when it ran.
            let again = self.state.resvs.get(&resv).is_some_and(|r| r.series.next(end).is_some());
            if again {
                self.release_with_mode(idx, end, mode, why);
            } else {
                self.release(idx, end, AllocState::Finished, format!("ended with its reservation: {why}"));
            }
        } else if a.reservation.is_none() && own_end.is_none_or(|e| e > end) {
            // An eviction planned for a reservation's start (see `plan_evictions`).
            match self.evicting_reservation(idx, end) {
                Some(name) => self.evict(idx, end, name),
                None => {
                    let a = &mut self.state.allocs[idx as usize];
                    a.end_time = own_end;
                    if let Some(e) = own_end {
                        self.index.ends.insert((e, idx));
                    }
                    self.mark(idx);
                }
            }
        } else {
            self.release(idx, end, AllocState::Finished, "finished".into());
        }
    }

    // ---- bookkeeping shared by the engines ----

    pub(super) fn push_alloc(&mut self, a: Allocation) -> u32 {
        let idx = self.state.allocs.len() as u32;
        self.index.alloc_index.insert(a.id.clone(), idx);
        self.state.asks.push(Ask::of(&a.request));
        let asks = self.state.asks.last_mut().expect("just pushed");
        // A shrunk allocation keeps its current size.
        asks.gpus = if a.state == AllocState::Running { a.gpus.len() as u32 } else { asks.gpus };
        asks.cores = a.cores;
        asks.mem = a.memory_bytes;
        let owner = match self.owners.owner_nos.get(&a.owner) {
            Some(&o) => o,
            None => {
                let o = self.owners.owner_names.len() as u32;
                self.owners.owner_nos.insert(a.owner.clone(), o);
                self.owners.owner_names.push(a.owner.clone());
                self.owners.owner_usage.push((0, 0.0));
                o
            }
        };
        self.owners.owner_no.push(owner);
        self.state.alloc_node.push(u32::MAX);
        self.state.allocs.push(a);
        self.journal.dirty_flag.push(false);
        self.pass.waits_idle.push(false);
        idx
    }

    pub(super) fn queue_key(&self, idx: u32) -> (Reverse<i32>, i64, u32) {
        let a = &self.state.allocs[idx as usize];
        (Reverse(a.priority), a.submitted_time, idx)
    }

    pub(super) fn mark(&mut self, idx: u32) {
        self.pass.waits_idle[idx as usize] = false;
        if !self.journal.dirty_flag[idx as usize] {
            self.journal.dirty_flag[idx as usize] = true;
            self.journal.dirty_allocs.push(idx);
        }
    }

    pub(super) fn mark_resv(&mut self, id: &str) {
        self.journal.dirty_resvs.insert(id.to_string());
    }

    pub(super) fn forget_resv(&mut self, id: &str) {
        self.journal.dirty_resvs.remove(id);
        self.journal.deleted_resvs.push(id.to_string());
    }

    pub(super) fn event(&mut self, now: i64, kind: &str, idx: u32, message: String, details: &[(&str, String)]) {
        let subject = self.state.allocs[idx as usize].id.clone();
        self.event_on(now, kind, subject, message, details);
    }

    pub(super) fn event_on(
        &mut self,
        now: i64,
        kind: &str,
        subject: String,
        message: String,
        details: &[(&str, String)],
    ) {
        let id = self.journal.next_event_id;
        self.journal.next_event_id += 1;
        let details = details.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        self.journal.events.push(Event { id, time: now, kind: kind.into(), subject, message, details });
    }

    /// Whether the allocation may be shrunk or preempted by someone of `priority`.
    pub(super) fn preemptable_by(&self, idx: u32, priority: i32) -> bool {
        let a = &self.state.allocs[idx as usize];
        a.state == AllocState::Running && a.qos != Qos::Guaranteed && a.priority < priority && a.preemption.is_none()
    }

    pub(super) fn shrinkable(&self, idx: u32) -> bool {
        let a = &self.state.allocs[idx as usize];
        let ask = &self.state.asks[idx as usize];
        a.qos != Qos::Guaranteed
            && ask.gpu_share.is_none()
            && a.request
                .resources
                .min
                .is_some_and(|m| m.gpus < ask.gpus || m.cores < ask.cores || m.memory_bytes < ask.mem)
    }

    /// Marks `idx` running on node `n` with GPU slots `slots`; all indexes follow.
    pub(super) fn occupy(&mut self, idx: u32, n: u32, slots: &[usize]) {
        let ask = self.state.asks[idx as usize];
        let node = &mut self.state.nodes[n as usize];
        self.index.by_free_gpus.remove(&(node.free_whole_gpus(), n));
        for &s in slots {
            node.gpu_used[s] += ask.gpu_share.unwrap_or(node.res.gpus[s].memory_bytes);
        }
        node.free_cores -= ask.cores.min(node.free_cores);
        node.free_mem -= ask.mem.min(node.free_mem);
        let pooled = self.draws_from_resv(idx);
        let node = &mut self.state.nodes[n as usize];
        let a = &self.state.allocs[idx as usize];
        if pooled {
            node.in_resv_cores += ask.cores;
            node.in_resv_mem += ask.mem;
        }
        node.running.push(idx);
        self.state.alloc_node[idx as usize] = n;
        self.index.by_free_gpus.insert((node.free_whole_gpus(), n));
        if !self.owners.held.contains_key(&a.owner) {
            self.owners.held.insert(a.owner.clone(), ResourceAmount::default());
        }
        let owner = self.owners.held.get_mut(&a.owner).expect("just inserted");
        owner.gpus += slots.len() as u32;
        owner.cores += ask.cores;
        owner.memory_bytes += ask.mem;
        if let Some(end) = a.end_time {
            self.index.ends.insert((end, idx));
        }
        if a.qos == Qos::Guaranteed {
            *self.index.guaranteed_running.entry(a.priority).or_default() += 1;
        }
        self.stale_node(n);
    }

    /// Gives back what `idx` holds (it must be running). The record's state is the caller's.
    pub(super) fn vacate(&mut self, idx: u32, now: i64) {
        let Some(n) = self.state.allocs[idx as usize].node.as_ref().and_then(|n| self.index.node_index.get(n)).copied()
        else {
            return;
        };
        let ask = self.state.asks[idx as usize];
        let pooled = self.draws_from_resv(idx);
        let a = &self.state.allocs[idx as usize];
        let node = &mut self.state.nodes[n as usize];
        self.index.by_free_gpus.remove(&(node.free_whole_gpus(), n));
        for g in &a.gpus {
            if let Some(s) = node.res.gpu_slot(g) {
                let used = ask.gpu_share.unwrap_or(node.res.gpus[s].memory_bytes);
                node.gpu_used[s] = node.gpu_used[s].saturating_sub(used);
            }
        }
        node.free_cores = (node.free_cores + ask.cores).min(node.res.cores);
        node.free_mem = (node.free_mem + ask.mem).min(node.res.memory_bytes);
        if pooled {
            node.in_resv_cores = node.in_resv_cores.saturating_sub(ask.cores);
            node.in_resv_mem = node.in_resv_mem.saturating_sub(ask.mem);
        }
        node.running.retain(|&i| i != idx);
        self.state.alloc_node[idx as usize] = u32::MAX;
        self.index.by_free_gpus.insert((node.free_whole_gpus(), n));
        if let Some(o) = self.owners.held.get_mut(&a.owner) {
            o.gpus = o.gpus.saturating_sub(a.gpus.len() as u32);
            o.cores = o.cores.saturating_sub(ask.cores);
            o.memory_bytes = o.memory_bytes.saturating_sub(ask.mem);
        }
        if let Some(start) = a.start_time {
            let weight = a.gpus.len() as f64 + ask.cores as f64 / 8.0;
            self.owners.fair.charge(&a.owner, weight * (now - start).max(0) as f64 / 1000.0, now);
        }
        if let Some(end) = a.end_time {
            self.index.ends.remove(&(end, idx));
        }
        if a.qos == Qos::Guaranteed
            && let Some(c) = self.index.guaranteed_running.get_mut(&a.priority)
        {
            *c -= 1;
            if *c == 0 {
                self.index.guaranteed_running.remove(&a.priority);
            }
        }
        self.pass.release_epoch += 1;
        self.stale_node(n);
    }

    /// Ends a running allocation with a final (or queued) state and a reason.
    pub(super) fn release(&mut self, idx: u32, now: i64, state: AllocState, reason: String) {
        self.vacate(idx, now);
        let a = &mut self.state.allocs[idx as usize];
        if let Some(p) = a.preemption.take() {
            self.index.deadlines.remove(&(p.at, idx));
            if let Some(&by) = self.index.alloc_index.get(&p.by) {
                self.done_waiting(by);
            }
        }
        let a = &mut self.state.allocs[idx as usize];
        a.state = state;
        a.pending_reason = Some(reason);
        if state.is_queued() {
            a.node = None;
            a.gpus.clear();
            a.start_time = None;
            a.end_time = None;
            let req = &a.request.resources;
            // Requeued work starts again at its full size.
            let ask = &mut self.state.asks[idx as usize];
            (ask.gpus, ask.cores, ask.mem) = (req.gpus, req.cores, req.memory_bytes);
            (a.cores, a.memory_bytes) = (req.cores, req.memory_bytes);
            self.index.queue.insert(self.queue_key(idx));
        } else {
            a.end_time = Some(now);
        }
        self.mark(idx);
    }

    /// Ends a running allocation the way its preemption mode says.
    pub(super) fn release_with_mode(&mut self, idx: u32, now: i64, mode: PreemptionMode, why: String) {
        let state = match mode {
            PreemptionMode::Requeue => AllocState::Pending,
            PreemptionMode::Suspend => AllocState::Suspended,
            PreemptionMode::Cancel => AllocState::Preempted,
        };
        let reason = match mode {
            PreemptionMode::Requeue => format!("requeued: {why}"),
            PreemptionMode::Suspend => format!("suspended: {why}"),
            PreemptionMode::Cancel => why,
        };
        self.release(idx, now, state, reason);
    }

    pub(super) fn done_waiting(&mut self, by: u32) {
        if let Some(c) = self.state.awaiting.get_mut(&by) {
            *c -= 1;
            if *c == 0 {
                self.state.awaiting.remove(&by);
            }
        }
    }

    /// A running record whose node no longer exists goes back to the queue.
    fn requeue_lost(&mut self, idx: u32) {
        let a = &mut self.state.allocs[idx as usize];
        a.state = AllocState::Pending;
        a.pending_reason = Some("requeued: its node is gone".into());
        a.node = None;
        a.gpus.clear();
        a.start_time = None;
        a.end_time = None;
        self.index.queue.insert(self.queue_key(idx));
        self.mark(idx);
    }

    /// Whether `idx` takes its cores/memory from its reservation's pool (a reservation that
    /// reserves GPUs only leaves cores and memory to the node's shared pool).
    pub(super) fn draws_from_resv(&self, idx: u32) -> bool {
        let a = &self.state.allocs[idx as usize];
        a.reservation
            .as_ref()
            .and_then(|r| self.state.resvs.get(r))
            .is_some_and(|r| r.rec.cores > 0 || r.rec.memory_bytes > 0)
    }

    fn stale_node(&mut self, n: u32) {
        #[cfg(test)]
        if self.pass.reference_pass {
            return self.refresh_node(n);
        }
        self.refresh_min_prio(n);
        if !self.index.stale[n as usize] {
            self.index.stale[n as usize] = true;
            self.index.stale_nodes.push(n);
        }
    }

    /// Brings the preemption indexes up to date (see `stale`).
    pub(super) fn flush_stale(&mut self) {
        while let Some(n) = self.index.stale_nodes.pop() {
            self.index.stale[n as usize] = false;
            self.refresh_node(n);
        }
    }

    /// Whether something running could be preempted (or shrunk) by a request of `priority`.
    pub(super) fn lower_priority_running(&self, priority: i32) -> bool {
        self.index.by_min_prio.first().is_some_and(|&(p, _)| p < priority)
    }

    fn refresh_min_prio(&mut self, n: u32) {
        let min = self.state.nodes[n as usize]
            .running
            .iter()
            .map(|&i| &self.state.allocs[i as usize])
            .filter(|a| a.qos != Qos::Guaranteed && a.preemption.is_none())
            .map(|a| a.priority)
            .min();
        let old = std::mem::replace(&mut self.index.node_min_prio[n as usize], min);
        if old != min {
            if let Some(p) = old {
                self.index.by_min_prio.remove(&(p, n));
            }
            if let Some(p) = min {
                self.index.by_min_prio.insert((p, n));
            }
        }
    }

    /// Recomputes a node's entries in the preemption indexes.
    pub(super) fn refresh_node(&mut self, n: u32) {
        self.refresh_min_prio(n);
        let node = &self.state.nodes[n as usize];
        let mut cands: Vec<Cand> = node
            .running
            .iter()
            .filter(|&&i| {
                self.state.allocs[i as usize].qos != Qos::Guaranteed
                    && self.state.allocs[i as usize].preemption.is_none()
            })
            .map(|&i| {
                let a = &self.state.allocs[i as usize];
                let whole = if self.state.asks[i as usize].gpu_share.is_none() { a.gpus.len() as u32 } else { 0 };
                (a.priority, whole, a.start_time.unwrap_or(0))
            })
            .collect();
        self.sharer_bounds(n, &mut cands);
        // Shrinking comes before preempting and may save victims: counted as free for the bound.
        let shrinkable_gpus: u32 = node
            .running
            .iter()
            .filter(|&&i| self.shrinkable(i) && self.state.allocs[i as usize].preemption.is_none())
            .map(|&i| {
                self.state.asks[i as usize]
                    .gpus
                    .saturating_sub(self.state.allocs[i as usize].request.resources.min.map_or(0, |m| m.gpus))
            })
            .sum();
        let bounds = node_bounds(node.gpu_used.len() as u32, node.free_whole_gpus() + shrinkable_gpus, &mut cands);
        let old = std::mem::replace(&mut self.index.node_bounds[n as usize], bounds);
        let new = &self.index.node_bounds[n as usize];
        if self.index.by_victim_bound.len() < new.len() {
            self.index.by_victim_bound.resize_with(new.len(), BTreeSet::new);
        }
        for (g, (was, now)) in old.iter().chain(std::iter::repeat(&None)).zip(new).enumerate() {
            if was != now {
                if let Some((p, c, s)) = *was {
                    self.index.by_victim_bound[g].remove(&(p, c, Reverse(s), n));
                }
                if let Some((p, c, s)) = *now {
                    self.index.by_victim_bound[g].insert((p, c, Reverse(s), n));
                }
            }
        }
        let running = &self.state.nodes[n as usize].running;
        if running.iter().any(|&i| self.shrinkable(i)) {
            self.index.shrinkable_nodes.insert(n);
        } else {
            self.index.shrinkable_nodes.remove(&n);
        }
    }

    /// A GPU held only by shares that could all be preempted frees as one: a candidate holding
    /// that GPU, at their highest priority and latest start (so the bound stays below any plan
    /// that preempts them all, see `preempt::group_sharers`).
    fn sharer_bounds(&self, n: u32, cands: &mut Vec<Cand>) {
        let node = &self.state.nodes[n as usize];
        if !node.running.iter().any(|&i| self.state.asks[i as usize].gpu_share.is_some()) {
            return;
        }
        // Per GPU slot: (highest priority, latest start, every sharer preemptable).
        let mut per_gpu: Vec<(usize, i32, i64, bool)> = Vec::new();
        for &i in node.running.iter().filter(|&&i| self.state.asks[i as usize].gpu_share.is_some()) {
            let a = &self.state.allocs[i as usize];
            let Some(s) = a.gpus.first().and_then(|g| node.res.gpu_slot(g)) else { continue };
            let ok = a.qos != Qos::Guaranteed && a.preemption.is_none();
            let start = a.start_time.unwrap_or(0);
            match per_gpu.iter_mut().find(|e| e.0 == s) {
                Some(e) => *e = (s, e.1.max(a.priority), e.2.max(start), e.3 && ok),
                None => per_gpu.push((s, a.priority, start, ok)),
            }
        }
        cands.extend(per_gpu.into_iter().filter(|e| e.3).map(|(_, p, start, _)| (p, 1, start)));
    }

    /// What `n` offers a request from `owner` over `[now, end)` (end `None` = open), inside
    /// reservation `resv` or outside every reservation.
    pub(super) fn capacity(&self, n: u32, resv: Option<&str>, now: i64, end: Option<i64>) -> Capacity {
        let node = &self.state.nodes[n as usize];
        let named = resv.and_then(|r| self.state.resvs.get(r));
        if resv.is_some() && named.is_none() {
            return Capacity {
                usable: vec![false; node.gpu_used.len()],
                cores: 0,
                mem: 0,
                short_cores: 0,
                short_mem: 0,
            };
        }
        // The shared pool: what no overlapping reservation (other than the named one) holds.
        let mut usable = vec![true; node.gpu_used.len()];
        let (mut cores, mut mem) =
            (node.free_cores as i64 + node.in_resv_cores as i64, node.free_mem as i128 + node.in_resv_mem as i128);
        for id in &node.reservations {
            let rs = &self.state.resvs[id];
            if Some(id.as_str()) == resv || rs.series.overlapping(now, end.unwrap_or(i64::MAX)).is_empty() {
                continue;
            }
            for &s in &rs.gpu_slots {
                usable[s] = false;
            }
            cores -= rs.rec.cores as i64;
            mem -= rs.rec.memory_bytes as i128;
        }
        let shared = |usable: Vec<bool>| Capacity {
            usable,
            cores: cores.clamp(0, node.free_cores as i64) as u32,
            mem: mem.clamp(0, node.free_mem as i128) as u64,
            short_cores: (-cores).max(0) as u32,
            short_mem: (-mem).max(0) as u64,
        };
        let Some(rs) = named else {
            return shared(usable);
        };
        // Inside a reservation: its GPUs, and its own cores/memory pool when it reserves one.
        let mut inside = vec![false; node.gpu_used.len()];
        for &s in &rs.gpu_slots {
            inside[s] = true;
        }
        if rs.rec.cores == 0 && rs.rec.memory_bytes == 0 {
            return shared(inside);
        }
        let (used_cores, used_mem) = node
            .running
            .iter()
            .filter(|&&i| self.state.allocs[i as usize].reservation.as_deref() == resv)
            .map(|&i| &self.state.asks[i as usize])
            .fold((0u32, 0u64), |(c, m), k| (c + k.cores, m + k.mem));
        Capacity {
            usable: inside,
            cores: rs.rec.cores.saturating_sub(used_cores).min(node.free_cores),
            mem: rs.rec.memory_bytes.saturating_sub(used_mem).min(node.free_mem),
            short_cores: 0,
            short_mem: 0,
        }
    }

    pub(super) fn refusal(&self, error: String, req: &AllocationRequest) -> Refusal {
        let ask = Ask::of(req);
        let availability = self
            .state
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.listed() && req.constraints.node.as_deref().is_none_or(|c| c == n.res.node))
            .filter(|(_, n)| {
                n.could_hold(&Ask { gpus: 0, gpu_share: None, cores: 0, mem: 0 }, &req.constraints) || ask.gpus == 0
            })
            .take(32)
            .map(|(i, n)| self.availability_of(i as u32, n))
            .collect();
        Refusal { error, availability }
    }

    pub(super) fn availability_of(&self, i: u32, n: &NodeAllocState) -> NodeAvailability {
        NodeAvailability {
            node: n.res.node.clone(),
            free_gpus: (0..n.gpu_used.len())
                .filter(|&s| n.gpu_used[s] == 0)
                .map(|s| n.res.gpus[s].id.clone())
                .collect(),
            free_cores: n.free_cores,
            free_memory_bytes: n.free_mem,
            next_release: n
                .running
                .iter()
                .filter_map(|&a| self.state.allocs[a as usize].end_time)
                .min()
                .filter(|_| i < u32::MAX),
        }
    }
}
