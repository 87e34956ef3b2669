//! The scheduling pass: queued allocations in priority order (then age, fair share, id), each
//! placed best-fit, or by shrinking/preempting lower priorities, or left waiting with a reason.
//! EASY backfill: the first request that must wait gets a promised start (its shadow); later
//! ones may start only where they cannot delay it.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use super::engine::{Scheduler, Shadow};
use super::nodes::Ask;
use super::quota;
use super::record::AllocState;
use super::request::Qos;
use super::time::format_rfc3339;

const GENERAL_WAIT: &str = "waiting for resources: ";

/// What an owner's quota allows a queued request now.
enum QuotaCheck {
    /// Its full size.
    Within,
    /// At most this size (its `min` fits what is left), with the words stating the limit.
    Capped(Ask, String),
    /// Not even its `min`: it waits.
    Over(String),
}

/// A queued request's place in its group: (owner's usage, id prefix, allocation).
type Fair = (f64, u64, u32);

/// The first 8 bytes of an id, zero-padded, as a big-endian number: ids compare like their
/// prefixes wherever those differ (a shorter id pads with zeros, so it sorts first), leaving
/// string comparisons to ids that share 8 bytes.
fn id_prefix(id: &str) -> u64 {
    let mut b = [0u8; 8];
    let n = id.len().min(8);
    b[..n].copy_from_slice(&id.as_bytes()[..n]);
    u64::from_be_bytes(b)
}

/// What a node would give the head of the queue in the shadow search: (idle GPUs, cores,
/// memory), what reservations overdraw (cores, memory), and the GPU slots it may use.
type ShadowNode = ((u32, u32, u64), (u32, u64), Vec<bool>);

impl Scheduler {
    /// Passes over the queue at `now` until one frees nothing (a preemption or requeue inside a
    /// pass may free room for requests the pass already looked at).
    pub fn schedule(&mut self, now: i64) {
        for _ in 0..8 {
            let epoch = self.pass.release_epoch;
            self.pass(now);
            if self.pass.release_epoch == epoch {
                break;
            }
        }
    }

    fn pass(&mut self, now: i64) {
        self.pass.shadow = None;
        self.pass.preempt_failures.clear();
        #[cfg(test)]
        if self.pass.reference_pass {
            return self.reference_pass(now);
        }
        let keys: Vec<_> = self.index.queue.iter().copied().collect();
        for group in keys.chunk_by(same_rank) {
            if let [one] = group {
                self.try_start(one.2, now);
            } else {
                self.run_group(group.iter().map(|k| k.2).collect(), group[0].0.0, now);
            }
        }
    }

    /// One group of equal priority and age, in fair-share order (the owner with less recent
    /// usage first, read at the group's start, then the id). The order is produced a chunk at a
    /// time, and once the backfill shadow is set, requests that can neither fit nor preempt
    /// and already wait with the general reason are passed over: their visit would change
    /// nothing. A release (a preemption) makes those after it candidates again.
    fn run_group(&mut self, members: Vec<u32>, priority: i32, now: i64) {
        self.owners.group_stamp += 1;
        let mut rest: Vec<Fair> = members
            .into_iter()
            .map(|m| (self.fair_usage(m, now), id_prefix(&self.state.allocs[m as usize].id), m))
            .collect();
        let mut passed_over: Vec<Fair> = Vec::new();
        let mut chunk = 1024;
        'group: while !rest.is_empty() {
            if self.pass.shadow.is_some() {
                let max_free = self.index.by_free_gpus.last().map_or(0, |&(f, _)| f);
                let can_preempt = self.lower_priority_running(priority);
                rest.retain(|&m| {
                    let idle = !can_preempt
                        && self.pass.waits_idle[m.2 as usize]
                        && self.state.asks[m.2 as usize].gpus > max_free;
                    if idle {
                        passed_over.push(m);
                    }
                    !idle
                });
                if rest.is_empty() {
                    break;
                }
            }
            let n = chunk.min(rest.len());
            if n < rest.len() {
                rest.select_nth_unstable_by(n - 1, |a, b| self.fair_cmp(a, b));
            }
            rest[..n].sort_unstable_by(|a, b| self.fair_cmp(a, b));
            let batch: Vec<Fair> = rest.drain(..n).collect();
            chunk *= 2;
            for (k, &m) in batch.iter().enumerate() {
                let (epoch, had_shadow) = (self.pass.release_epoch, self.pass.shadow.is_some());
                self.try_start(m.2, now);
                if self.pass.release_epoch != epoch {
                    rest.extend_from_slice(&batch[k + 1..]);
                    let after: Vec<_> = passed_over.drain(..).filter(|p| self.fair_cmp(p, &m).is_gt()).collect();
                    rest.extend(after);
                    continue 'group;
                }
                if !had_shadow && self.pass.shadow.is_some() {
                    rest.extend_from_slice(&batch[k + 1..]);
                    continue 'group;
                }
            }
        }
    }

    /// Decayed usage of `idx`'s owner, computed once per owner and group.
    fn fair_usage(&mut self, idx: u32, now: i64) -> f64 {
        let o = self.owners.owner_no[idx as usize] as usize;
        if self.owners.owner_usage[o].0 != self.owners.group_stamp {
            self.owners.owner_usage[o] =
                (self.owners.group_stamp, self.owners.fair.usage(&self.owners.owner_names[o], now));
        }
        self.owners.owner_usage[o].1
    }

    fn fair_cmp(&self, a: &Fair, b: &Fair) -> std::cmp::Ordering {
        a.0.total_cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then_with(|| self.state.allocs[a.2 as usize].id.cmp(&self.state.allocs[b.2 as usize].id))
    }

    /// The pass as first written (every queued request visited, each group sorted whole): the
    /// reference the chunked pass is checked against.
    #[cfg(test)]
    fn reference_pass(&mut self, now: i64) {
        let keys: Vec<_> = self.index.queue.iter().copied().collect();
        for keys in keys.chunk_by(same_rank) {
            let mut group: Vec<u32> = keys.iter().map(|k| k.2).collect();
            if group.len() > 1 {
                let share: Vec<(f64, &str)> = group
                    .iter()
                    .map(|&g| {
                        (
                            self.owners.fair.usage(&self.state.allocs[g as usize].owner, now),
                            self.state.allocs[g as usize].id.as_str(),
                        )
                    })
                    .collect();
                let mut order: Vec<usize> = (0..group.len()).collect();
                order.sort_by(|&a, &b| share[a].0.total_cmp(&share[b].0).then(share[a].1.cmp(share[b].1)));
                group = order.into_iter().map(|k| group[k]).collect();
            }
            for idx in group {
                self.try_start(idx, now);
            }
        }
    }

    fn set_reason(&mut self, idx: u32, reason: String) {
        let a = &mut self.state.allocs[idx as usize];
        if a.pending_reason.as_deref() != Some(reason.as_str()) {
            a.pending_reason = Some(reason);
            self.mark(idx);
        }
    }

    fn drop_from_queue(&mut self, idx: u32, reason: String) {
        self.index.queue.remove(&self.queue_key(idx));
        let a = &mut self.state.allocs[idx as usize];
        a.state = AllocState::Cancelled;
        a.pending_reason = Some(reason);
        self.mark(idx);
    }

    /// When an allocation started now would end (clipped to its reservation's occurrence).
    pub(super) fn end_if_started(&self, idx: u32, now: i64) -> Option<i64> {
        let a = &self.state.allocs[idx as usize];
        let own = a.request.duration_s.map(|d| now + d as i64 * 1000);
        let occ_end = a
            .reservation
            .as_ref()
            .and_then(|r| self.state.resvs.get(r))
            .and_then(|r| r.series.active_at(now))
            .map(|o| o.1);
        match (own, occ_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn try_start(&mut self, idx: u32, now: i64) {
        if self.state.awaiting.contains_key(&idx) || !self.state.allocs[idx as usize].state.is_queued() {
            return;
        }
        if let Some(why) = self.hold_reason(idx) {
            return self.set_reason(idx, why);
        }
        let a = &self.state.allocs[idx as usize];
        if let Some(r) = a.reservation.clone() {
            let Some(rs) = self.state.resvs.get(&r) else {
                return self.drop_from_queue(idx, format!("reservation {r} was deleted"));
            };
            match rs.series.next(now) {
                None => return self.drop_from_queue(idx, format!("reservation {:?} has ended", rs.rec.name)),
                Some((s, _)) if s > now => {
                    let why = format!("waiting for reservation {:?} to start at {}", rs.rec.name, format_rfc3339(s));
                    return self.set_reason(idx, why);
                }
                _ => {}
            }
        }
        let end = self.end_if_started(idx, now);
        match self.quota_check(idx) {
            QuotaCheck::Within => {}
            QuotaCheck::Capped(cap, words) => {
                if let Some((n, slots, size)) = self.find_reduced(idx, now, end, cap) {
                    if let Some(why) = self.over_power_budget(n, &size) {
                        return self.set_reason(idx, why);
                    }
                    return self.start_reduced(idx, n, &slots, size, now, end, &format!("the {words}"));
                }
                return self.set_reason(idx, format!("waiting for resources within the {words}"));
            }
            QuotaCheck::Over(words) => return self.set_reason(idx, format!("waiting for the {words}")),
        }
        if let Some((n, slots)) = self.find_place(idx, now, end) {
            if let Some(why) = self.over_power_budget(n, &self.state.asks[idx as usize]) {
                return self.set_reason(idx, why);
            }
            if self.pass.shadow.is_some() {
                self.stats.backfilled += 1;
            }
            return self.start(idx, n, &slots, now, end);
        }
        if !self.preemption_hopeless(idx) {
            // With nothing of lower priority running, there is nothing to shrink or preempt.
            if self.lower_priority_running(self.state.allocs[idx as usize].priority) {
                self.flush_stale();
                if self.try_preempt(idx, now, end) {
                    return;
                }
            }
            self.note_preemption_failure(idx);
        }
        let full = self.state.asks[idx as usize];
        if let Some((n, slots, size)) = self.find_reduced(idx, now, end, full) {
            if let Some(why) = self.over_power_budget(n, &size) {
                return self.set_reason(idx, why);
            }
            return self.start_reduced(idx, n, &slots, size, now, end, "the full size does not fit");
        }
        if self.pass.shadow.is_none() {
            self.pass.shadow = self.compute_shadow(idx, now);
        }
        self.explain_wait(idx, now, end);
    }

    /// Says why `idx` waits, most specific cause first: it is first in line (and when it is
    /// expected), starting it would delay the one that is, its node is down, reservations hold
    /// the idle GPUs it would take, or guaranteed work
    /// it outranks holds what it needs; else the general reason.
    fn explain_wait(&mut self, idx: u32, now: i64, end: Option<i64>) {
        let behind = self.pass.shadow.is_some_and(|s| s.alloc != idx) && self.fits_but_for_shadow(idx, now, end);
        let reserved = if behind { None } else { self.reserved_gpus_reason(idx, now, end) };
        let why = match self.pass.shadow {
            Some(s) if s.alloc == idx && reserved.is_some() => reserved.map(|r| {
                format!(
                    "{r}; first in line, expected on {} by {}",
                    self.state.nodes[s.node as usize].res.node,
                    format_rfc3339(s.at)
                )
            }),
            Some(s) if s.alloc == idx => Some(format!(
                "waiting for resources; first in line, expected on {} by {}",
                self.state.nodes[s.node as usize].res.node,
                format_rfc3339(s.at)
            )),
            Some(s) if behind => Some(format!(
                "waiting behind {}, first in line (expected on {} by {}): starting now would delay it",
                self.state.allocs[s.alloc as usize].id,
                self.state.nodes[s.node as usize].res.node,
                format_rfc3339(s.at)
            )),
            _ => self.node_down(idx).or(reserved),
        };
        if let Some(why) = why {
            return self.set_reason(idx, why);
        }
        // The general reason depends on the ask alone, fixed while queued: not formatted again
        // on every pass.
        if self.state.allocs[idx as usize].pending_reason.as_deref().is_some_and(|r| r.starts_with(GENERAL_WAIT)) {
            return self.note_waits_idle(idx);
        }
        if let Some(holders) = self.guaranteed_holders(idx) {
            return self.set_reason(
                idx,
                format!(
                    "waiting for resources held by guaranteed allocations, never preempted: {}",
                    holders.join(", ")
                ),
            );
        }
        let ask = self.state.asks[idx as usize];
        let why = format!("{GENERAL_WAIT}{} GPU(s), {} cores, {} MiB on one node", ask.gpus, ask.cores, ask.mem >> 20);
        self.set_reason(idx, why);
        self.note_waits_idle(idx);
    }

    /// Whether `idx` would fit now but for the backfill promise made to the head of the queue.
    /// Asked of every request that waits behind the shadow, so it goes through `find_place`:
    /// a shape that did not fit without the shadow is not searched again until something frees.
    fn fits_but_for_shadow(&mut self, idx: u32, now: i64, end: Option<i64>) -> bool {
        let shadow = self.pass.shadow.take();
        let fits = self.find_place(idx, now, end).is_some();
        self.pass.shadow = shadow;
        fits
    }

    /// "waiting for node X, which is down" when the node `idx` must run on (named by its
    /// constraints or its reservation) takes no work.
    fn node_down(&self, idx: u32) -> Option<String> {
        let a = &self.state.allocs[idx as usize];
        let n = match &a.reservation {
            Some(r) => self.state.resvs.get(r).map(|r| r.node)?,
            None => *self.index.node_index.get(a.request.constraints.node.as_ref()?)?,
        };
        let node = &self.state.nodes[n as usize];
        (!node.takes_work()).then(|| format!("waiting for node {}, which is {}", node.res.node, node.health.as_str()))
    }

    /// Guaranteed allocations `idx` outranks whose resources, with what is idle, would hold it on
    /// some node: what keeps it waiting, as preemption never touches them.
    fn guaranteed_holders(&self, idx: u32) -> Option<Vec<String>> {
        let a = &self.state.allocs[idx as usize];
        let ask = self.state.asks[idx as usize];
        if a.reservation.is_some() || ask.gpu_share.is_some() {
            return None;
        }
        // Every node is looked at: only when guaranteed work it outranks runs somewhere.
        self.index.guaranteed_running.range(..a.priority).next()?;
        self.state.nodes.iter().find_map(|node| {
            if !node.takes_work() || !node.could_hold(&ask, &a.request.constraints) {
                return None;
            }
            let held: Vec<u32> = node
                .running
                .iter()
                .copied()
                .filter(|&i| {
                    let h = &self.state.allocs[i as usize];
                    h.qos == Qos::Guaranteed && h.priority < a.priority && h.reservation.is_none()
                })
                .collect();
            let gpus = node.free_whole_gpus()
                + held.iter().map(|&i| self.state.allocs[i as usize].gpus.len() as u32).sum::<u32>();
            let cores = node.free_cores + held.iter().map(|&i| self.state.asks[i as usize].cores).sum::<u32>();
            let mem = node.free_mem + held.iter().map(|&i| self.state.asks[i as usize].mem).sum::<u64>();
            (!held.is_empty() && gpus >= ask.gpus && cores >= ask.cores && mem >= ask.mem)
                .then(|| held.iter().map(|&i| self.state.allocs[i as usize].id.clone()).collect())
        })
    }

    /// Whether `idx`'s owner may hold it at its full size, only down to a size within the quota
    /// (its `min` fits what is left), or not now.
    fn quota_check(&self, idx: u32) -> QuotaCheck {
        let a = &self.state.allocs[idx as usize];
        let Some(q) = self.config.quotas.get(&a.owner) else { return QuotaCheck::Within };
        let ask = self.state.asks[idx as usize];
        let held = self.owners.held.get(&a.owner).copied().unwrap_or_default();
        let Some(words) = quota::excess(&a.owner, q, &held, &quota::amount(&ask)) else {
            return QuotaCheck::Within;
        };
        let room = quota::room(q, &held);
        match a.request.resources.min.filter(|_| ask.gpu_share.is_none()) {
            Some(m) if m.gpus <= room.gpus && m.cores <= room.cores && m.memory_bytes <= room.mem => {
                let cap = Ask {
                    gpus: ask.gpus.min(room.gpus),
                    gpu_share: None,
                    cores: ask.cores.min(room.cores),
                    mem: ask.mem.min(room.mem),
                };
                QuotaCheck::Capped(cap, words)
            }
            _ => QuotaCheck::Over(words),
        }
    }

    /// `idx` waits with the general reason: whether a pass may pass it over (see `waits_idle`).
    fn note_waits_idle(&mut self, idx: u32) {
        let a = &self.state.allocs[idx as usize];
        self.pass.waits_idle[idx as usize] = a.reservation.is_none()
            && a.request.constraints.node.is_none()
            && a.request.resources.min.is_none()
            && self.state.asks[idx as usize].gpu_share.is_none()
            && (self.config.quotas.is_empty() || !self.config.quotas.contains_key(&a.owner));
    }

    /// Within a pass, victims only become fewer (work placed later has no higher priority than
    /// what came before it in queue order), so a request that asks at least as much as one that
    /// already failed to preempt, at no higher priority and for no shorter a run, fails too.
    fn preemption_hopeless(&self, idx: u32) -> bool {
        let a = &self.state.allocs[idx as usize];
        let k = self.state.asks[idx as usize];
        self.unconstrained(idx)
            && self.pass.preempt_failures.iter().any(|&(p, f, d)| {
                // A longer run meets more reservations: at least as hard.
                let longer = match (d, a.request.duration_s) {
                    (_, None) => true,
                    (Some(fd), Some(qd)) => fd <= qd,
                    (None, Some(_)) => false,
                };
                p >= a.priority && longer && f.gpus <= k.gpus && f.cores <= k.cores && f.mem <= k.mem
            })
    }

    fn note_preemption_failure(&mut self, idx: u32) {
        if self.unconstrained(idx) && self.pass.preempt_failures.len() < 64 {
            let a = &self.state.allocs[idx as usize];
            self.pass.preempt_failures.push((a.priority, self.state.asks[idx as usize], a.request.duration_s));
        }
    }

    fn unconstrained(&self, idx: u32) -> bool {
        let a = &self.state.allocs[idx as usize];
        a.reservation.is_none()
            && a.request.constraints == Default::default()
            && self.state.asks[idx as usize].gpu_share.is_none()
    }

    /// Whether a node is off limits for `idx` because of the backfill promise.
    pub(super) fn shadow_blocks(&self, idx: u32, n: u32, end: Option<i64>) -> bool {
        self.pass.shadow.is_some_and(|s| s.alloc != idx && s.node == n && end.is_none_or(|e| e > s.at))
    }

    fn shape_key(&self, idx: u32) -> (Ask, u64) {
        let a = &self.state.allocs[idx as usize];
        let mut h = DefaultHasher::new();
        (&a.request.constraints, &a.reservation, a.request.duration_s, self.pass.shadow.map(|s| (s.node, s.at)))
            .hash(&mut h);
        (self.state.asks[idx as usize], h.finish())
    }

    /// A node and GPU slots where `idx` fits now, best fit first.
    pub(super) fn find_place(&mut self, idx: u32, now: i64, end: Option<i64>) -> Option<(u32, Vec<usize>)> {
        let ask = self.state.asks[idx as usize];
        // No node has that many idle GPUs: nothing to search.
        if ask.gpu_share.is_none() && self.index.by_free_gpus.last().is_none_or(|&(free, _)| free < ask.gpus) {
            return None;
        }
        let key = self.shape_key(idx);
        let stamp = self.pass.release_epoch ^ (now as u64).rotate_left(32);
        if self.pass.failed_shapes.get(&key) == Some(&stamp) {
            return None;
        }
        let found = self.search(idx, now, end);
        if found.is_none() {
            if self.pass.failed_shapes.len() > 100_000 {
                self.pass.failed_shapes.clear();
            }
            self.pass.failed_shapes.insert(key, stamp);
        }
        found
    }

    fn search(&self, idx: u32, now: i64, end: Option<i64>) -> Option<(u32, Vec<usize>)> {
        let a = &self.state.allocs[idx as usize];
        let ask = self.state.asks[idx as usize];
        let resv = a.reservation.as_deref();
        let c = &a.request.constraints;
        let try_node = |n: u32| -> Option<(u32, Vec<usize>)> {
            if self.shadow_blocks(idx, n, end)
                || !self.state.nodes[n as usize].takes_work()
                || !self.state.nodes[n as usize].could_hold(&ask, c)
            {
                return None;
            }
            let cap = self.capacity(n, resv, now, end);
            if !cap.fits_cpu_mem(&ask) {
                return None;
            }
            cap.pick_gpus(&self.state.nodes[n as usize], &ask, c).map(|slots| (n, slots))
        };
        let only = resv
            .and_then(|r| self.state.resvs.get(r))
            .map(|r| r.node)
            .or_else(|| c.node.as_ref().and_then(|n| self.index.node_index.get(n).copied()));
        if let Some(n) = only {
            return try_node(n);
        }
        if resv.is_some() || c.node.is_some() {
            return None;
        }
        let need_idle = if ask.gpu_share.is_some() { 0 } else { ask.gpus };
        self.index.by_free_gpus.range((need_idle, 0)..).find_map(|&(_, n)| try_node(n))
    }

    /// Where the full size fits nowhere (even by preemption) but the request's `min` does: the
    /// node offering the largest size ≥ min (GPUs, then cores, then memory), and that size.
    /// `upper` caps the size (the full ask, or what the owner's quota leaves).
    fn find_reduced(&self, idx: u32, now: i64, end: Option<i64>, upper: Ask) -> Option<(u32, Vec<usize>, Ask)> {
        let a = &self.state.allocs[idx as usize];
        let ask = upper;
        let min = a.request.resources.min?;
        // At the full size, the size at `min` is the one already searched.
        let nothing_smaller = min.gpus >= ask.gpus && min.cores >= ask.cores && min.memory_bytes >= ask.mem;
        if ask.gpu_share.is_some() || (nothing_smaller && upper == self.state.asks[idx as usize]) {
            return None;
        }
        let floor = Ask {
            gpus: min.gpus.min(ask.gpus),
            gpu_share: None,
            cores: min.cores.min(ask.cores),
            mem: min.memory_bytes.min(ask.mem),
        };
        let (resv, c) = (a.reservation.as_deref(), &a.request.constraints);
        let size_on = |n: u32| -> Option<Ask> {
            let node = &self.state.nodes[n as usize];
            if self.shadow_blocks(idx, n, end) || !node.takes_work() || !node.could_hold(&floor, c) {
                return None;
            }
            let cap = self.capacity(n, resv, now, end);
            let idle = (0..node.gpu_used.len())
                .filter(|&s| cap.usable[s] && node.gpu_used[s] == 0 && node.gpu_model_ok(s, c))
                .count() as u32;
            let size = Ask {
                gpus: ask.gpus.min(idle),
                gpu_share: None,
                cores: ask.cores.min(cap.cores),
                mem: ask.mem.min(cap.mem),
            };
            (size.gpus >= floor.gpus && size.cores >= floor.cores && size.mem >= floor.mem).then_some(size)
        };
        let only = resv
            .and_then(|r| self.state.resvs.get(r))
            .map(|r| r.node)
            .or_else(|| c.node.as_ref().and_then(|n| self.index.node_index.get(n).copied()));
        let mut best: Option<(u32, Ask)> = None;
        let better = |s: &Ask, b: &Option<(u32, Ask)>| {
            b.is_none_or(|(_, b)| (s.gpus, s.cores, s.mem) > (b.gpus, b.cores, b.mem))
        };
        if let Some(n) = only {
            best = size_on(n).map(|s| (n, s));
        } else if resv.is_none() && c.node.is_none() {
            // Most idle GPUs first: once a node has fewer idle GPUs than the best size, none after
            // it can offer more.
            for &(free, n) in self.index.by_free_gpus.range((floor.gpus, 0)..).rev() {
                if best.is_some_and(|(_, b)| {
                    free < b.gpus || (b.gpus, b.cores, b.mem) == (free.min(ask.gpus), ask.cores, ask.mem)
                }) {
                    break;
                }
                if let Some(s) = size_on(n).filter(|s| better(s, &best)) {
                    best = Some((n, s));
                }
            }
        }
        let (n, size) = best?;
        let slots = self.capacity(n, resv, now, end).pick_gpus(&self.state.nodes[n as usize], &size, c)?;
        Some((n, slots, size))
    }

    /// Starts `idx` at `size`, below its full size `because` (the full size does not fit, or
    /// the quota's words).
    #[allow(clippy::too_many_arguments)]
    fn start_reduced(
        &mut self,
        idx: u32,
        n: u32,
        slots: &[usize],
        size: Ask,
        now: i64,
        end: Option<i64>,
        because: &str,
    ) {
        let full = self.state.asks[idx as usize];
        self.state.asks[idx as usize] = size;
        let a = &mut self.state.allocs[idx as usize];
        (a.cores, a.memory_bytes) = (size.cores, size.mem);
        let message = format!(
            "started below its full size ({} of {} GPUs, {} of {} cores): {because}",
            size.gpus, full.gpus, size.cores, full.cores
        );
        self.start(idx, n, slots, now, end);
        self.event(now, "reduced", idx, message, &[]);
    }

    pub(super) fn start(&mut self, idx: u32, n: u32, slots: &[usize], now: i64, end: Option<i64>) {
        self.index.queue.remove(&self.queue_key(idx));
        let node = &self.state.nodes[n as usize].res;
        let gpus = slots.iter().map(|&s| node.gpus[s].id.clone()).collect();
        let node_name = node.node.clone();
        let a = &mut self.state.allocs[idx as usize];
        a.state = AllocState::Running;
        a.pending_reason = None;
        a.node = Some(node_name);
        a.gpus = gpus;
        a.start_time = Some(now);
        a.end_time = end;
        self.occupy(idx, n, slots);
        self.stats.placed += 1;
        self.mark(idx);
    }

    /// The earliest time and node where `idx` could start as running allocations end (or
    /// finish their grace period): releases are walked in time order across the cluster, each
    /// node's capacity read on its first release, so the walk stops at the first node that
    /// gathers enough instead of looking at every node. Ties go to the lowest node.
    fn compute_shadow(&self, idx: u32, now: i64) -> Option<Shadow> {
        #[cfg(test)]
        if self.pass.reference_pass {
            return self.compute_shadow_scan(idx, now);
        }
        let a = &self.state.allocs[idx as usize];
        let ask = self.state.asks[idx as usize];
        let resv = a.reservation.as_deref();
        let c = &a.request.constraints;
        let end = self.end_if_started(idx, now);
        // A running allocation releases at its grace deadline while it has one, else at its end.
        let mut ends = self
            .index
            .ends
            .iter()
            .copied()
            .filter(|&(_, i)| self.state.allocs[i as usize].preemption.is_none())
            .peekable();
        let mut graces = self
            .index
            .deadlines
            .iter()
            .copied()
            .filter(|&(_, i)| self.state.allocs[i as usize].state == AllocState::Running)
            .peekable();
        // Per node touched: None when the request may not run there, else what it would have
        // (idle GPUs, cores, memory), what reservations overdraw, and the GPU slots it may use.
        let mut nodes: HashMap<u32, Option<ShadowNode>> = HashMap::new();
        let mut best: Option<Shadow> = None;
        loop {
            let next = match (ends.peek(), graces.peek()) {
                (Some(&e), Some(&g)) if g < e => graces.next(),
                (Some(_), _) => ends.next(),
                (None, _) => graces.next(),
            };
            let Some((t, i)) = next else { break };
            if best.is_some_and(|b| t > b.at) {
                break;
            }
            let r = &self.state.allocs[i as usize];
            let n = self.state.alloc_node[i as usize];
            if r.reservation.as_deref() != resv || n == u32::MAX || best.is_some_and(|b| b.node <= n) {
                continue;
            }
            let node = &self.state.nodes[n as usize];
            let acc = nodes.entry(n).or_insert_with(|| {
                if !node.takes_work()
                    || !node.could_hold(&ask, c)
                    || resv.is_some_and(|r| self.state.resvs.get(r).is_none_or(|rs| rs.node != n))
                {
                    return None;
                }
                let cap = self.capacity(n, resv, now, end);
                let idle = (0..node.gpu_used.len())
                    .filter(|&s| cap.usable[s] && node.gpu_used[s] == 0 && node.gpu_model_ok(s, c))
                    .count() as u32;
                Some(((idle, cap.cores, cap.mem), (cap.short_cores, cap.short_mem), cap.usable))
            });
            let Some((have, short, usable)) = acc else { continue };
            let k = self.state.asks[i as usize];
            let gpus = if k.gpu_share.is_none() {
                r.gpus
                    .iter()
                    .filter_map(|g| node.res.gpu_slot(g))
                    .filter(|&s| usable[s] && node.gpu_model_ok(s, c))
                    .count() as u32
            } else {
                0
            };
            *have = (have.0 + gpus, have.1 + k.cores, have.2 + k.mem);
            // Released cores/memory first cover what reservations overdraw (see `Capacity`).
            if have.0 >= ask.gpus && have.1 >= ask.cores + short.0 && have.2 >= ask.mem + short.1 {
                best = Some(Shadow { alloc: idx, node: n, at: t });
            }
        }
        self.earlier_at_reservation_end(idx, now, best)
    }

    /// A reservation's window ending frees what it holds: where that lets `idx` start before
    /// `best` (with what running work outside reservations has released by then), the earliest
    /// such end. Ties go to the lowest node.
    fn earlier_at_reservation_end(&self, idx: u32, now: i64, mut best: Option<Shadow>) -> Option<Shadow> {
        let a = &self.state.allocs[idx as usize];
        let ask = self.state.asks[idx as usize];
        let c = &a.request.constraints;
        if a.reservation.is_some() {
            return best;
        }
        let end = self.end_if_started(idx, now);
        for (n, node) in self.state.nodes.iter().enumerate() {
            if node.reservations.is_empty() || !node.takes_work() || !node.could_hold(&ask, c) {
                continue;
            }
            for id in &node.reservations {
                let Some((_, t)) = self.state.resvs[id].series.next(now) else { continue };
                if best.is_some_and(|b| t >= b.at) {
                    continue;
                }
                let cap = self.capacity(n as u32, None, t, end.map(|e| e - now + t));
                let released: Vec<u32> = node
                    .running
                    .iter()
                    .copied()
                    .filter(|&i| {
                        let r = &self.state.allocs[i as usize];
                        let at = r.preemption.as_ref().map(|p| p.at).or(r.end_time);
                        r.reservation.is_none() && at.is_some_and(|at| at <= t)
                    })
                    .collect();
                let idle = (0..node.gpu_used.len())
                    .filter(|&s| cap.usable[s] && node.gpu_model_ok(s, c))
                    .filter(|&s| {
                        node.gpu_used[s] == 0
                            || released.iter().any(|&i| {
                                self.state.asks[i as usize].gpu_share.is_none()
                                    && self.state.allocs[i as usize].gpus.contains(&node.res.gpus[s].id)
                            })
                    })
                    .count() as u32;
                let cores =
                    cap.cores as u64 + released.iter().map(|&i| self.state.asks[i as usize].cores as u64).sum::<u64>();
                let mem =
                    cap.mem as u128 + released.iter().map(|&i| self.state.asks[i as usize].mem as u128).sum::<u128>();
                if idle >= ask.gpus
                    && cores >= (ask.cores + cap.short_cores) as u64
                    && mem >= ask.mem as u128 + cap.short_mem as u128
                {
                    best = Some(Shadow { alloc: idx, node: n as u32, at: t });
                }
            }
        }
        best
    }

    /// `compute_shadow` as first written, node by node: the reference the walk is checked
    /// against.
    #[cfg(test)]
    fn compute_shadow_scan(&self, idx: u32, now: i64) -> Option<Shadow> {
        let a = &self.state.allocs[idx as usize];
        let ask = self.state.asks[idx as usize];
        let resv = a.reservation.as_deref();
        let c = &a.request.constraints;
        let mut best: Option<Shadow> = None;
        for (n, node) in self.state.nodes.iter().enumerate() {
            let n = n as u32;
            if !node.takes_work()
                || !node.could_hold(&ask, c)
                || resv.is_some_and(|r| self.state.resvs.get(r).is_none_or(|rs| rs.node != n))
            {
                continue;
            }
            let cap = self.capacity(n, resv, now, self.end_if_started(idx, now));
            let mut have = (
                (0..node.gpu_used.len())
                    .filter(|&s| cap.usable[s] && node.gpu_used[s] == 0 && node.gpu_model_ok(s, c))
                    .count() as u32,
                cap.cores,
                cap.mem,
            );
            let mut releases: Vec<(i64, u32)> = node
                .running
                .iter()
                .filter(|&&i| self.state.allocs[i as usize].reservation.as_deref() == resv)
                .filter_map(|&i| {
                    let r = &self.state.allocs[i as usize];
                    r.preemption.as_ref().map(|p| p.at).or(r.end_time).map(|t| (t, i))
                })
                .collect();
            releases.sort_unstable();
            // Released cores/memory first cover what reservations overdraw (see `Capacity`).
            let enough = |h: &(u32, u32, u64)| {
                h.0 >= ask.gpus && h.1 >= ask.cores + cap.short_cores && h.2 >= ask.mem + cap.short_mem
            };
            let mut at = None;
            for (t, i) in releases {
                if best.is_some_and(|b| t > b.at) {
                    break;
                }
                let r = &self.state.allocs[i as usize];
                let k = self.state.asks[i as usize];
                let usable_gpus = r
                    .gpus
                    .iter()
                    .filter_map(|g| node.res.gpu_slot(g))
                    .filter(|&s| cap.usable[s] && node.gpu_model_ok(s, c))
                    .count() as u32;
                have = (have.0 + if k.gpu_share.is_none() { usable_gpus } else { 0 }, have.1 + k.cores, have.2 + k.mem);
                if enough(&have) {
                    at = Some(t);
                    break;
                }
            }
            if let Some(t) = at
                && best.is_none_or(|b| t < b.at)
            {
                best = Some(Shadow { alloc: idx, node: n, at: t });
            }
        }
        self.earlier_at_reservation_end(idx, now, best)
    }
}

/// Queue keys of equal priority and age: one group, ordered among themselves by fair share.
fn same_rank(a: &(std::cmp::Reverse<i32>, i64, u32), b: &(std::cmp::Reverse<i32>, i64, u32)) -> bool {
    a.0 == b.0 && a.1 == b.1
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::*;

    /// (owner, gpus, share, cores, priority, qos, duration in steps, min, pinned node, arrives
    /// with the previous one): one request of a random stream.
    type Req = (u8, u32, bool, u32, i32, u8, Option<u8>, bool, bool, bool);

    fn cluster(nodes: u32, gpus: u32) -> Vec<NodeResources> {
        (0..nodes)
            .map(|n| {
                let name = format!("n{n}");
                NodeResources {
                    gpus: (0..gpus)
                        .map(|i| GpuResource {
                            id: NodeResources::gpu_id(&name, i),
                            index: i,
                            name: "GPU".into(),
                            memory_bytes: 80 << 30,
                            mig: vec![],
                        })
                        .collect(),
                    node: name,
                    cores: 16,
                    memory_bytes: 64 << 30,
                    labels: Default::default(),
                    accelerators: vec![],
                }
            })
            .collect()
    }

    fn request(i: usize, r: Req, nodes: u32) -> AllocationRequest {
        let (owner, gpus, share, cores, priority, qos, dur, min, pinned, _) = r;
        AllocationRequest {
            id: Some(format!("r{i}")),
            owner: format!("u{owner}"),
            resources: ResourceAsk {
                gpus: if share { 1 } else { gpus },
                gpu_memory_bytes: share.then_some(20 << 30),
                cores,
                memory_bytes: (cores as u64) << 30,
                min: min.then_some(ResourceAmount {
                    gpus: gpus / 2,
                    cores: cores / 2,
                    memory_bytes: (cores as u64 / 2) << 30,
                }),
            },
            priority: Some(Priority::Value(priority)),
            qos: [Qos::Guaranteed, Qos::Burstable, Qos::BestEffort][qos as usize],
            duration_s: dur.map(|d| d as u64 * 60),
            constraints: Constraints { node: pinned.then(|| format!("n{}", i as u32 % nodes)), ..Default::default() },
            reservation: None,
            preemption: PreemptionPolicy {
                mode: [PreemptionMode::Requeue, PreemptionMode::Cancel][i % 2],
                grace_s: [0, 0, 90][i % 3],
            },
            queue: true,
            workload: None,
        }
    }

    fn req() -> impl Strategy<Value = Req> {
        (
            (0..4u8, 0..=4u32, prop::bool::weighted(0.1), 0..=6u32, prop::sample::select(vec![0, 250, 500, 500, 1000])),
            (
                0..3u8,
                prop::option::weighted(0.8, 1..=6u8),
                prop::bool::weighted(0.15),
                prop::bool::weighted(0.1),
                prop::bool::weighted(0.7),
            ),
        )
            .prop_map(|((o, g, s, c, p), (q, d, m, n, t))| (o, g, s, c, p, q, d, m, n, t))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn ids_order_like_their_prefixes_then_themselves(a in "[a-c\\x00]{0,10}", b in "[a-c\\x00]{0,10}") {
            let by_prefix = super::id_prefix(&a).cmp(&super::id_prefix(&b)).then_with(|| a.cmp(&b));
            prop_assert_eq!(by_prefix, a.cmp(&b));
        }

        /// The chunked pass that passes idle requests over decides exactly what visiting every
        /// queued request in full order decides: same records, same events, same counters.
        #[test]
        fn the_chunked_pass_decides_like_the_full_one(
            nodes in 1..=4u32,
            gpus in 1..=4u32,
            quota in prop::bool::weighted(0.2),
            stream in prop::collection::vec((req(), 0..3u8, prop::option::weighted(0.1, 0..40usize)), 1..80),
        ) {
            let mut config = SchedulerConfig::default();
            if quota {
                config.quotas.insert("u1".into(), ResourceAmount { gpus: 3, cores: 8, memory_bytes: 8 << 30 });
            }
            let mut fast = Scheduler::new(config.clone(), cluster(nodes, gpus));
            let mut reference = Scheduler::new(config, cluster(nodes, gpus));
            reference.pass.reference_pass = true;
            let mut now = 1_000_000i64;
            for (i, (r, advance, cancel)) in stream.into_iter().enumerate() {
                // Requests arriving together share an age: groups ordered by fair share.
                if !r.9 {
                    now += 1;
                }
                let a = fast.enqueue(request(i, r, nodes), now);
                let b = reference.enqueue(request(i, r, nodes), now);
                prop_assert_eq!(a, b);
                if let Some(c) = cancel {
                    let id = format!("r{c}");
                    prop_assert_eq!(fast.cancel(&id, now), reference.cancel(&id, now));
                }
                now += advance as i64 * 60_000;
                fast.tick(now);
                reference.tick(now);
                prop_assert_eq!(fast.allocations(), reference.allocations());
                prop_assert_eq!(fast.take_changes().events, reference.take_changes().events);
                prop_assert_eq!(fast.stats, reference.stats);
            }
        }
    }
}
