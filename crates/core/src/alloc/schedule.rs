//! The scheduling pass: queued allocations in priority order (then age, fair share, id), each
//! placed best-fit, or by shrinking/preempting lower priorities, or left waiting with a reason.
//! EASY backfill: the first request that must wait gets a promised start (its shadow); later
//! ones may start only where they cannot delay it.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use super::engine::{Scheduler, Shadow};
use super::nodes::Ask;
use super::record::AllocState;
use super::time::format_rfc3339;

const GENERAL_WAIT: &str = "waiting for resources: ";

impl Scheduler {
    /// Passes over the queue at `now` until one frees nothing (a preemption or requeue inside a
    /// pass may free room for requests the pass already looked at).
    pub fn schedule(&mut self, now: i64) {
        for _ in 0..8 {
            let epoch = self.release_epoch;
            self.pass(now);
            if self.release_epoch == epoch {
                break;
            }
        }
    }

    fn pass(&mut self, now: i64) {
        self.shadow = None;
        self.preempt_failures.clear();
        let keys: Vec<_> = self.queue.iter().copied().collect();
        let mut i = 0;
        while i < keys.len() {
            let mut j = i + 1;
            while j < keys.len() && keys[j].0 == keys[i].0 && keys[j].1 == keys[i].1 {
                j += 1;
            }
            let mut group: Vec<u32> = keys[i..j].iter().map(|k| k.2).collect();
            if group.len() > 1 {
                // Same priority and age: the owner with less recent usage first, then the id.
                let share: Vec<(f64, &str)> =
                    group.iter().map(|&g| (self.fair.usage(&self.allocs[g as usize].owner, now), self.allocs[g as usize].id.as_str())).collect();
                let mut order: Vec<usize> = (0..group.len()).collect();
                order.sort_by(|&a, &b| share[a].0.total_cmp(&share[b].0).then(share[a].1.cmp(share[b].1)));
                group = order.into_iter().map(|k| group[k]).collect();
            }
            for idx in group {
                self.try_start(idx, now);
            }
            i = j;
        }
    }

    fn set_reason(&mut self, idx: u32, reason: String) {
        let a = &mut self.allocs[idx as usize];
        if a.pending_reason.as_deref() != Some(reason.as_str()) {
            a.pending_reason = Some(reason);
            self.mark(idx);
        }
    }

    fn drop_from_queue(&mut self, idx: u32, reason: String) {
        self.queue.remove(&self.queue_key(idx));
        let a = &mut self.allocs[idx as usize];
        a.state = AllocState::Cancelled;
        a.pending_reason = Some(reason);
        self.mark(idx);
    }

    /// When an allocation started now would end (clipped to its reservation's occurrence).
    pub(super) fn end_if_started(&self, idx: u32, now: i64) -> Option<i64> {
        let a = &self.allocs[idx as usize];
        let own = a.request.duration_s.map(|d| now + d as i64 * 1000);
        let occ_end = a.reservation.as_ref().and_then(|r| self.resvs.get(r)).and_then(|r| r.series.active_at(now)).map(|o| o.1);
        match (own, occ_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn try_start(&mut self, idx: u32, now: i64) {
        if self.awaiting.contains_key(&idx) || !self.allocs[idx as usize].state.is_queued() {
            return;
        }
        let a = &self.allocs[idx as usize];
        if let Some(r) = a.reservation.clone() {
            let Some(rs) = self.resvs.get(&r) else {
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
        let ask = self.asks[idx as usize];
        if let Some(q) = self.config.quotas.get(&a.owner) {
            let used = self.owners.get(&a.owner).copied().unwrap_or_default();
            if used.gpus + ask.gpus > q.gpus || used.cores + ask.cores > q.cores || used.memory_bytes + ask.mem > q.memory_bytes {
                let mut over = Vec::new();
                if used.gpus + ask.gpus > q.gpus {
                    over.push(format!("{} of {} GPUs held", used.gpus, q.gpus));
                }
                if used.cores + ask.cores > q.cores {
                    over.push(format!("{} of {} cores held", used.cores, q.cores));
                }
                if used.memory_bytes + ask.mem > q.memory_bytes {
                    over.push(format!("{} of {} MiB held", used.memory_bytes >> 20, q.memory_bytes >> 20));
                }
                let why = format!("owner quota of {}: {}", a.owner, over.join(", "));
                return self.set_reason(idx, why);
            }
        }
        let end = self.end_if_started(idx, now);
        if let Some((n, slots)) = self.find_place(idx, now, end) {
            if self.shadow.is_some() {
                self.stats.backfilled += 1;
            }
            return self.start(idx, n, &slots, now, end);
        }
        if !self.preemption_hopeless(idx) {
            if self.try_preempt(idx, now, end) {
                return;
            }
            self.note_preemption_failure(idx);
        }
        if let Some((n, slots, size)) = self.find_reduced(idx, now, end) {
            return self.start_reduced(idx, n, &slots, size, now, end);
        }
        if self.shadow.is_none() {
            self.shadow = self.compute_shadow(idx, now);
        }
        let why = match self.shadow {
            // The general reason depends on the ask alone, fixed while queued: not formatted
            // again on every pass.
            Some(s) if s.alloc != idx && self.allocs[idx as usize].pending_reason.as_deref().is_some_and(|r| r.starts_with(GENERAL_WAIT)) => return,
            None if self.allocs[idx as usize].pending_reason.as_deref().is_some_and(|r| r.starts_with(GENERAL_WAIT)) => return,
            Some(s) if s.alloc == idx => format!(
                "waiting for resources; first in line, expected on {} by {}",
                self.nodes[s.node as usize].res.node,
                format_rfc3339(s.at)
            ),
            _ => format!(
                "{GENERAL_WAIT}{} GPU(s), {} cores, {} MiB on one node",
                ask.gpus,
                ask.cores,
                ask.mem / (1 << 20)
            ),
        };
        self.set_reason(idx, why);
    }

    /// Within a pass, victims only become fewer (work placed later has no higher priority than
    /// what came before it in queue order), so a request that asks at least as much as one that
    /// already failed to preempt, at no higher priority and for no shorter a run, fails too.
    fn preemption_hopeless(&self, idx: u32) -> bool {
        let a = &self.allocs[idx as usize];
        let k = self.asks[idx as usize];
        self.unconstrained(idx)
            && self.preempt_failures.iter().any(|&(p, f, d)| {
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
        if self.unconstrained(idx) && self.preempt_failures.len() < 64 {
            let a = &self.allocs[idx as usize];
            self.preempt_failures.push((a.priority, self.asks[idx as usize], a.request.duration_s));
        }
    }

    fn unconstrained(&self, idx: u32) -> bool {
        let a = &self.allocs[idx as usize];
        a.reservation.is_none() && a.request.constraints == Default::default() && self.asks[idx as usize].gpu_share.is_none()
    }

    /// Whether a node is off limits for `idx` because of the backfill promise.
    pub(super) fn shadow_blocks(&self, idx: u32, n: u32, end: Option<i64>) -> bool {
        self.shadow.is_some_and(|s| s.alloc != idx && s.node == n && end.is_none_or(|e| e > s.at))
    }

    fn shape_key(&self, idx: u32) -> (Ask, u64) {
        let a = &self.allocs[idx as usize];
        let mut h = DefaultHasher::new();
        (&a.request.constraints, &a.reservation, a.request.duration_s, self.shadow.map(|s| (s.node, s.at))).hash(&mut h);
        (self.asks[idx as usize], h.finish())
    }

    /// A node and GPU slots where `idx` fits now, best fit first.
    pub(super) fn find_place(&mut self, idx: u32, now: i64, end: Option<i64>) -> Option<(u32, Vec<usize>)> {
        let ask = self.asks[idx as usize];
        // No node has that many idle GPUs: nothing to search.
        if ask.gpu_share.is_none() && self.by_free_gpus.last().is_none_or(|&(free, _)| free < ask.gpus) {
            return None;
        }
        let key = self.shape_key(idx);
        let stamp = self.release_epoch ^ (now as u64).rotate_left(32);
        if self.failed_shapes.get(&key) == Some(&stamp) {
            return None;
        }
        let found = self.search(idx, now, end);
        if found.is_none() {
            if self.failed_shapes.len() > 100_000 {
                self.failed_shapes.clear();
            }
            self.failed_shapes.insert(key, stamp);
        }
        found
    }

    fn search(&self, idx: u32, now: i64, end: Option<i64>) -> Option<(u32, Vec<usize>)> {
        let a = &self.allocs[idx as usize];
        let ask = self.asks[idx as usize];
        let resv = a.reservation.as_deref();
        let c = &a.request.constraints;
        let try_node = |n: u32| -> Option<(u32, Vec<usize>)> {
            if self.shadow_blocks(idx, n, end) || !self.nodes[n as usize].could_hold(&ask, c) {
                return None;
            }
            let cap = self.capacity(n, resv, now, end);
            if !cap.fits_cpu_mem(&ask) {
                return None;
            }
            cap.pick_gpus(&self.nodes[n as usize], &ask, c).map(|slots| (n, slots))
        };
        let only = resv.and_then(|r| self.resvs.get(r)).map(|r| r.node).or_else(|| c.node.as_ref().and_then(|n| self.node_index.get(n).copied()));
        if let Some(n) = only {
            return try_node(n);
        }
        if resv.is_some() || c.node.is_some() {
            return None;
        }
        let need_idle = if ask.gpu_share.is_some() { 0 } else { ask.gpus };
        self.by_free_gpus.range((need_idle, 0)..).find_map(|&(_, n)| try_node(n))
    }

    /// Where the full size fits nowhere (even by preemption) but the request's `min` does: the
    /// node offering the largest size ≥ min (GPUs, then cores, then memory), and that size.
    fn find_reduced(&self, idx: u32, now: i64, end: Option<i64>) -> Option<(u32, Vec<usize>, Ask)> {
        let a = &self.allocs[idx as usize];
        let ask = self.asks[idx as usize];
        let min = a.request.resources.min?;
        if ask.gpu_share.is_some() || (min.gpus >= ask.gpus && min.cores >= ask.cores && min.memory_bytes >= ask.mem) {
            return None;
        }
        let floor = Ask { gpus: min.gpus.min(ask.gpus), gpu_share: None, cores: min.cores.min(ask.cores), mem: min.memory_bytes.min(ask.mem) };
        let (resv, c) = (a.reservation.as_deref(), &a.request.constraints);
        let size_on = |n: u32| -> Option<Ask> {
            let node = &self.nodes[n as usize];
            if self.shadow_blocks(idx, n, end) || !node.could_hold(&floor, c) {
                return None;
            }
            let cap = self.capacity(n, resv, now, end);
            let idle = (0..node.gpu_used.len()).filter(|&s| cap.usable[s] && node.gpu_used[s] == 0 && node.gpu_model_ok(s, c)).count() as u32;
            let size = Ask { gpus: ask.gpus.min(idle), gpu_share: None, cores: ask.cores.min(cap.cores), mem: ask.mem.min(cap.mem) };
            (size.gpus >= floor.gpus && size.cores >= floor.cores && size.mem >= floor.mem).then_some(size)
        };
        let only = resv.and_then(|r| self.resvs.get(r)).map(|r| r.node).or_else(|| c.node.as_ref().and_then(|n| self.node_index.get(n).copied()));
        let mut best: Option<(u32, Ask)> = None;
        let better = |s: &Ask, b: &Option<(u32, Ask)>| b.is_none_or(|(_, b)| (s.gpus, s.cores, s.mem) > (b.gpus, b.cores, b.mem));
        if let Some(n) = only {
            best = size_on(n).map(|s| (n, s));
        } else if resv.is_none() && c.node.is_none() {
            // Most idle GPUs first: once a node has fewer idle GPUs than the best size, none after
            // it can offer more.
            for &(free, n) in self.by_free_gpus.range((floor.gpus, 0)..).rev() {
                if best.is_some_and(|(_, b)| free < b.gpus || (b.gpus, b.cores, b.mem) == (free.min(ask.gpus), ask.cores, ask.mem)) {
                    break;
                }
                if let Some(s) = size_on(n).filter(|s| better(s, &best)) {
                    best = Some((n, s));
                }
            }
        }
        let (n, size) = best?;
        let slots = self.capacity(n, resv, now, end).pick_gpus(&self.nodes[n as usize], &size, c)?;
        Some((n, slots, size))
    }

    fn start_reduced(&mut self, idx: u32, n: u32, slots: &[usize], size: Ask, now: i64, end: Option<i64>) {
        let full = self.asks[idx as usize];
        self.asks[idx as usize] = size;
        let a = &mut self.allocs[idx as usize];
        (a.cores, a.memory_bytes) = (size.cores, size.mem);
        let message = format!(
            "started below its full size ({} of {} GPUs, {} of {} cores): the full size does not fit",
            size.gpus, full.gpus, size.cores, full.cores
        );
        self.start(idx, n, slots, now, end);
        self.event(now, "reduced", idx, message, &[]);
    }

    pub(super) fn start(&mut self, idx: u32, n: u32, slots: &[usize], now: i64, end: Option<i64>) {
        self.queue.remove(&self.queue_key(idx));
        let node = &self.nodes[n as usize].res;
        let gpus = slots.iter().map(|&s| node.gpus[s].id.clone()).collect();
        let node_name = node.node.clone();
        let a = &mut self.allocs[idx as usize];
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

    /// The earliest time and node where `idx` could start as running allocations end.
    fn compute_shadow(&self, idx: u32, now: i64) -> Option<Shadow> {
        let a = &self.allocs[idx as usize];
        let ask = self.asks[idx as usize];
        let resv = a.reservation.as_deref();
        let c = &a.request.constraints;
        let mut best: Option<Shadow> = None;
        for (n, node) in self.nodes.iter().enumerate() {
            let n = n as u32;
            if !node.could_hold(&ask, c) || resv.is_some_and(|r| self.resvs.get(r).is_none_or(|rs| rs.node != n)) {
                continue;
            }
            let cap = self.capacity(n, resv, now, self.end_if_started(idx, now));
            let mut have = (
                (0..node.gpu_used.len()).filter(|&s| cap.usable[s] && node.gpu_used[s] == 0 && node.gpu_model_ok(s, c)).count() as u32,
                cap.cores,
                cap.mem,
            );
            let mut releases: Vec<(i64, u32)> = node
                .running
                .iter()
                .filter(|&&i| self.allocs[i as usize].reservation.as_deref() == resv)
                .filter_map(|&i| {
                    let r = &self.allocs[i as usize];
                    r.preemption.as_ref().map(|p| p.at).or(r.end_time).map(|t| (t, i))
                })
                .collect();
            releases.sort_unstable();
            // Released cores/memory first cover what reservations overdraw (see `Capacity`).
            let enough = |h: &(u32, u32, u64)| h.0 >= ask.gpus && h.1 >= ask.cores + cap.short_cores && h.2 >= ask.mem + cap.short_mem;
            let mut at = None;
            for (t, i) in releases {
                if best.is_some_and(|b| t >= b.at) {
                    break;
                }
                let r = &self.allocs[i as usize];
                let k = self.asks[i as usize];
                let usable_gpus =
                    r.gpus.iter().filter_map(|g| node.res.gpu_slot(g)).filter(|&s| cap.usable[s] && node.gpu_model_ok(s, c)).count() as u32;
                have = (have.0 + if k.gpu_share.is_none() { usable_gpus } else { 0 }, have.1 + k.cores, have.2 + k.mem);
                if enough(&have) {
                    at = Some(t);
                    break;
                }
            }
            if let Some(t) = at {
                if best.is_none_or(|b| t < b.at) {
                    best = Some(Shadow { alloc: idx, node: n, at: t });
                }
            }
        }
        best
    }
}
