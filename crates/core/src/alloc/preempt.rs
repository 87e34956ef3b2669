//! Making room for a request that cannot fit: first shrink burstable/best-effort allocations of
//! strictly lower priority toward their `min`; only if that is not enough, preempt. Victims are
//! strictly lower priorities and never guaranteed QoS, chosen to minimise the highest victim
//! priority, then the number of victims, then the work lost (run time thrown away).
//!
//! Whole-GPU requests count GPUs (idle ones, and those preemptable whole-GPU holders would
//! give back, and GPUs held only by shares that are all preemptable: such a GPU frees only when
//! every sharer goes, so its sharers are one candidate counted as that many victims). A share of one GPU counts bytes of that GPU's memory instead: each GPU it could
//! use is planned on, its victims being the shares and whole-GPU holders on that GPU (plus any
//! allocation on the node for cores and memory), and the best GPU's plan is the node's.

use super::engine::Scheduler;
use super::nodes::Capacity;
use super::record::{AllocState, PendingPreemption};
use super::request::Qos;
use super::time::format_rfc3339;
use super::victims::{fewest_victims, fewest_weighted};

/// Resources a plan frees: (GPUs usable by the preemptor — or, for a share, bytes of the
/// target GPU's memory — cores, memory).
type Gain = (u64, u32, u64);

fn add(a: Gain, b: Gain) -> Gain {
    (a.0 + b.0, a.1 + b.1, a.2 + b.2)
}

fn covers(have: Gain, need: Gain) -> bool {
    have.0 >= need.0 && have.1 >= need.1 && have.2 >= need.2
}

struct Candidate {
    idx: u32,
    priority: i32,
    lost_ms: i64,
    /// Everything it holds that the preemptor could use.
    full: Gain,
    /// What shrinking it to its `min` frees (zero if it cannot shrink).
    shrink: Gain,
    /// The sharers of one GPU preempted together (`idx` is the first); empty for one allocation.
    members: Vec<u32>,
}

impl Candidate {
    fn victims(&self) -> usize {
        self.members.len().max(1)
    }
}

/// A way to make room on one node.
struct Plan {
    node: u32,
    /// Highest victim priority (`i32::MIN` when shrinking alone is enough).
    max_priority: i32,
    victims: Vec<u32>,
    lost_ms: i64,
    /// Allocations to shrink, each with the gain it must give.
    shrinks: Vec<(u32, Gain)>,
    /// For a share: the GPU slot the plan frees memory on.
    share_slot: Option<usize>,
}

impl Plan {
    fn rank(&self) -> (i32, usize, i64) {
        (self.max_priority, self.victims.len(), self.lost_ms)
    }
}

impl Scheduler {
    /// Tries to make room for `idx` by shrinking and preempting; true when it did (the request
    /// then runs, or waits only for its victims' grace periods).
    pub(super) fn try_preempt(&mut self, idx: u32, now: i64, end: Option<i64>) -> bool {
        let priority = self.state.allocs[idx as usize].priority;
        let shrink_nodes: Vec<u32> = self.index.shrinkable_nodes.iter().copied().collect();
        let mut plan = shrink_nodes
            .into_iter()
            .filter(|&n| self.allowed(idx, n, end))
            .find_map(|n| self.plan_on(idx, n, now, end, true));
        if plan.is_none() {
            plan = self.best_victim_plan(idx, priority, now, end);
        }
        match plan {
            Some(p) => {
                self.apply(idx, p, now, end);
                true
            }
            None => false,
        }
    }

    fn allowed(&self, idx: u32, n: u32, end: Option<i64>) -> bool {
        let a = &self.state.allocs[idx as usize];
        let node = &self.state.nodes[n as usize];
        let resv_ok = a.reservation.as_ref().is_none_or(|r| self.state.resvs.get(r).is_some_and(|rs| rs.node == n));
        resv_ok
            && node.takes_work()
            && !self.shadow_blocks(idx, n, end)
            && node.could_hold(&self.state.asks[idx as usize], &a.request.constraints)
    }

    /// The best preemption plan over every node, in the issue's order. Nodes are visited in
    /// the order of a lower bound of their plan's rank, so the walk ends at the first node whose
    /// bound cannot beat the best plan found.
    fn best_victim_plan(&self, idx: u32, priority: i32, now: i64, end: Option<i64>) -> Option<Plan> {
        let gpus = self.state.asks[idx as usize].gpus;
        let mut best: Option<Plan> = None;
        let consider = |n: u32, best: &mut Option<Plan>| {
            if self.allowed(idx, n, end)
                && let Some(p) = self.plan_on(idx, n, now, end, false)
                && best.as_ref().is_none_or(|b| p.rank() < b.rank())
            {
                *best = Some(p);
            }
        };
        let shares = self.state.asks[idx as usize].gpu_share.is_some();
        match self.index.by_victim_bound.get((gpus as usize).wrapping_sub(1)).filter(|_| !shares) {
            Some(index) => {
                for &(level, count, std::cmp::Reverse(starts), n) in index {
                    let bound = (level, count as usize, count as i64 * now - starts);
                    if level >= priority || best.as_ref().is_some_and(|b| b.rank() <= bound) {
                        break;
                    }
                    consider(n, &mut best);
                }
            }
            // No GPUs asked, or a share (the GPU-count bounds do not apply): bound by the node's
            // lowest preemptable priority alone.
            None if gpus == 0 || shares => {
                for &(min_prio, n) in self.index.by_min_prio.range(..(priority, 0)) {
                    if best.as_ref().is_some_and(|b| min_prio > b.max_priority) {
                        break;
                    }
                    consider(n, &mut best);
                }
            }
            None => {}
        }
        best
    }

    /// The best plan on node `n`: for a share, the best over the GPUs it could use.
    fn plan_on(&self, idx: u32, n: u32, now: i64, end: Option<i64>, shrink_only: bool) -> Option<Plan> {
        let a = &self.state.allocs[idx as usize];
        let cap: Capacity = self.capacity(n, a.reservation.as_deref(), now, end);
        let Some(share) = self.state.asks[idx as usize].gpu_share else {
            return self.plan_for(idx, n, &cap, now, None, shrink_only);
        };
        let node = &self.state.nodes[n as usize];
        (0..node.gpu_used.len())
            .filter(|&s| {
                cap.usable[s] && node.gpu_model_ok(s, &a.request.constraints) && node.res.gpus[s].memory_bytes >= share
            })
            .filter_map(|s| self.plan_for(idx, n, &cap, now, Some(s), shrink_only))
            .min_by_key(Plan::rank)
    }

    /// A plan on node `n` for a whole-GPU request (`slot` `None`) or for a share on GPU `slot`.
    fn plan_for(
        &self,
        idx: u32,
        n: u32,
        cap: &Capacity,
        now: i64,
        slot: Option<usize>,
        shrink_only: bool,
    ) -> Option<Plan> {
        let a = &self.state.allocs[idx as usize];
        let ask = self.state.asks[idx as usize];
        let node = &self.state.nodes[n as usize];
        let c = &a.request.constraints;
        let gpu_ok = |s: usize| cap.usable[s] && node.gpu_model_ok(s, c);
        // Freed cores/memory first cover what reservations overdraw: only the rest is usable.
        let (need_gpu, have_gpu) = match slot {
            None => (
                ask.gpus as u64,
                (0..node.gpu_used.len()).filter(|&s| gpu_ok(s) && node.gpu_used[s] == 0).count() as u64,
            ),
            Some(s) => (ask.gpu_share.unwrap_or(0), node.res.gpus[s].memory_bytes.saturating_sub(node.gpu_used[s])),
        };
        let need: Gain = (need_gpu, ask.cores + cap.short_cores, ask.mem + cap.short_mem);
        let have: Gain = (have_gpu, cap.cores, cap.mem);
        let mut cands: Vec<Candidate> = node
            .running
            .iter()
            .copied()
            .filter(|&i| {
                self.preemptable_by(i, a.priority) && self.state.allocs[i as usize].reservation == a.reservation
            })
            .map(|i| {
                let v = &self.state.allocs[i as usize];
                let k = self.state.asks[i as usize];
                let held = || v.gpus.iter().filter_map(|g| node.res.gpu_slot(g));
                let min = v.request.resources.min.filter(|_| self.shrinkable(i));
                // GPUs shrinking may give back.
                let may_drop = min.map_or(0, |m| k.gpus.saturating_sub(m.gpus)) as u64;
                let (gpu, gpu_shrink) = match slot {
                    None if k.gpu_share.is_none() => {
                        let usable = held().filter(|&s| gpu_ok(s)).count() as u64;
                        (usable, usable.min(may_drop))
                    }
                    None => (0, 0),
                    // On the target GPU: a share frees its share, a whole-GPU holder all of it
                    // (shrinking too, when it may give back a GPU).
                    Some(s) if held().any(|h| h == s) => match k.gpu_share {
                        Some(b) => (b, 0),
                        None => (
                            node.res.gpus[s].memory_bytes,
                            if may_drop > 0 { node.res.gpus[s].memory_bytes } else { 0 },
                        ),
                    },
                    Some(_) => (0, 0),
                };
                let full = (gpu, k.cores, k.mem);
                let shrink = match min {
                    Some(m) => (gpu_shrink, k.cores.saturating_sub(m.cores), k.mem.saturating_sub(m.memory_bytes)),
                    None => (0, 0, 0),
                };
                Candidate {
                    idx: i,
                    priority: v.priority,
                    lost_ms: v.start_time.map_or(0, |s| (now - s).max(0)),
                    full,
                    shrink,
                    members: Vec::new(),
                }
            })
            .collect();
        if slot.is_none() && have_gpu < need_gpu {
            self.group_sharers(node, &mut cands, gpu_ok);
        }
        // Best-effort before burstable at equal rank: QoS says who goes first.
        cands.sort_by_key(|c| (c.priority, self.state.allocs[c.idx as usize].qos != Qos::BestEffort, c.lost_ms, c.idx));
        let all_shrink = cands.iter().fold((0, 0, 0), |g, c| add(g, c.shrink));
        if covers(add(have, all_shrink), need) {
            let shrinks = pick_shrinks(have, need, cands.iter().map(|c| (c.idx, c.shrink)));
            return Some(Plan {
                node: n,
                max_priority: i32::MIN,
                victims: vec![],
                lost_ms: 0,
                shrinks,
                share_slot: slot,
            });
        }
        if shrink_only {
            return None;
        }
        // The lowest priority level at which preempting everything at or below it suffices.
        let mut level_gain = add(have, all_shrink);
        let mut level = None;
        for (k, c) in cands.iter().enumerate() {
            level_gain = add(level_gain, (c.full.0 - c.shrink.0, c.full.1 - c.shrink.1, c.full.2 - c.shrink.2));
            let last_of_level = cands.get(k + 1).is_none_or(|next| next.priority != c.priority);
            if last_of_level && covers(level_gain, need) {
                level = Some(c.priority);
                break;
            }
        }
        let level = level?;
        let pool: Vec<&Candidate> = cands.iter().filter(|c| c.priority <= level).collect();
        // What each victim adds beyond the shrink already counted for it.
        let gains: Vec<(Gain, i64)> = pool
            .iter()
            .map(|c| ((c.full.0 - c.shrink.0, c.full.1 - c.shrink.1, c.full.2 - c.shrink.2), c.lost_ms))
            .collect();
        let chosen = if pool.iter().all(|c| c.members.is_empty()) {
            fewest_victims(&gains, add(have, all_shrink), need)?
        } else {
            let weights: Vec<u32> = pool.iter().map(|c| c.victims() as u32).collect();
            fewest_weighted(&gains, &weights, add(have, all_shrink), need)?
        };
        let victims: Vec<u32> = chosen
            .iter()
            .flat_map(|&k| if pool[k].members.is_empty() { vec![pool[k].idx] } else { pool[k].members.clone() })
            .collect();
        let freed = chosen.iter().fold(have, |g, &k| add(g, pool[k].full));
        let shrinks =
            pick_shrinks(freed, need, cands.iter().filter(|c| !victims.contains(&c.idx)).map(|c| (c.idx, c.shrink)));
        Some(Plan {
            node: n,
            max_priority: chosen.iter().map(|&k| pool[k].priority).max().unwrap_or(i32::MIN),
            lost_ms: chosen.iter().map(|&k| pool[k].lost_ms).sum(),
            victims,
            shrinks,
            share_slot: slot,
        })
    }

    /// For a whole-GPU request short of GPUs: the preemptable sharers of each GPU it may use
    /// where nothing else holds memory become one candidate (that GPU, their cores and memory,
    /// their highest priority, all their work lost). Sharers of other GPUs stay candidates for
    /// cores and memory alone.
    fn group_sharers(
        &self,
        node: &super::nodes::NodeAllocState,
        cands: &mut Vec<Candidate>,
        gpu_ok: impl Fn(usize) -> bool,
    ) {
        // Per GPU slot: positions in `cands` of its sharers, and whether one cannot be preempted.
        let mut per_gpu: Vec<(usize, Vec<usize>, bool)> = Vec::new();
        for &i in &node.running {
            if self.state.asks[i as usize].gpu_share.is_none() {
                continue;
            }
            let Some(s) =
                self.state.allocs[i as usize].gpus.first().and_then(|g| node.res.gpu_slot(g)).filter(|&s| gpu_ok(s))
            else {
                continue;
            };
            let k = match per_gpu.iter().position(|e| e.0 == s) {
                Some(k) => k,
                None => {
                    per_gpu.push((s, Vec::new(), false));
                    per_gpu.len() - 1
                }
            };
            match cands.iter().position(|c| c.idx == i) {
                Some(pos) => per_gpu[k].1.push(pos),
                None => per_gpu[k].2 = true,
            }
        }
        if per_gpu.is_empty() {
            return;
        }
        let mut grouped = vec![false; cands.len()];
        let mut groups = Vec::new();
        for (_, positions, blocked) in per_gpu {
            if blocked {
                continue;
            }
            let members: Vec<&Candidate> = positions.iter().map(|&p| &cands[p]).collect();
            groups.push(Candidate {
                idx: members[0].idx,
                priority: members.iter().map(|c| c.priority).max().unwrap_or(i32::MIN),
                lost_ms: members.iter().map(|c| c.lost_ms).sum(),
                full: members.iter().fold((1, 0, 0), |g, c| add(g, c.full)),
                shrink: (0, 0, 0),
                members: members.iter().map(|c| c.idx).collect(),
            });
            for p in positions {
                grouped[p] = true;
            }
        }
        let mut k = 0;
        cands.retain(|_| {
            k += 1;
            !grouped[k - 1]
        });
        cands.extend(groups);
    }

    fn apply(&mut self, idx: u32, plan: Plan, now: i64, end: Option<i64>) {
        let preemptor = self.state.allocs[idx as usize].id.clone();
        let priority = self.state.allocs[idx as usize].priority;
        let cap = self.capacity(plan.node, self.state.allocs[idx as usize].reservation.clone().as_deref(), now, end);
        for (v, mut gain) in plan.shrinks {
            match plan.share_slot {
                // For a share, the GPU part of a shrink is bytes of one GPU: give back that GPU.
                Some(s) => {
                    gain.0 = u64::from(gain.0 > 0);
                    let only: Vec<bool> = (0..cap.usable.len()).map(|k| k == s).collect();
                    self.shrink(v, gain, &only, now, &preemptor);
                }
                None => self.shrink(v, gain, &cap.usable, now, &preemptor),
            }
        }
        let mut waiting_until = None;
        for v in plan.victims {
            let victim = &self.state.allocs[v as usize];
            let grace = victim.request.preemption.grace_s as i64 * 1000;
            let mode = victim.request.preemption.mode;
            let why = format!("preempted by {preemptor} (priority {priority} > {})", victim.priority);
            let details = [
                ("preemptor", preemptor.clone()),
                ("preemptor_priority", priority.to_string()),
                ("victim_priority", victim.priority.to_string()),
                ("victim_qos", format!("{:?}", victim.qos).to_lowercase()),
                ("mode", format!("{mode:?}").to_lowercase()),
                ("grace_s", (grace / 1000).to_string()),
                ("node", victim.node.clone().unwrap_or_default()),
                ("gpus", victim.gpus.join(",")),
            ];
            self.event(now, "preemption", v, why.clone(), &details);
            self.stats.preemptions += 1;
            self.state.allocs[v as usize].preemptions += 1;
            if grace == 0 {
                self.release_with_mode(v, now, mode, why);
            } else {
                let at = now + grace;
                self.state.allocs[v as usize].preemption =
                    Some(PendingPreemption { by: preemptor.clone(), at, reason: why });
                self.index.deadlines.insert((at, v));
                *self.state.awaiting.entry(idx).or_default() += 1;
                self.mark(v);
                self.refresh_node(plan.node);
                waiting_until = waiting_until.max(Some(at));
            }
        }
        match waiting_until {
            Some(at) => {
                let a = &mut self.state.allocs[idx as usize];
                a.pending_reason = Some(format!(
                    "waiting for preempted allocations to end their grace period (until {})",
                    format_rfc3339(at)
                ));
                self.mark(idx);
            }
            None => {
                if let Some((n, slots)) = self.find_place(idx, now, end) {
                    self.start(idx, n, &slots, now, end);
                }
            }
        }
    }

    /// A victim's grace period is over: it ends the way its preemption mode says.
    pub(super) fn finish_preemption(&mut self, v: u32, now: i64) {
        let a = &self.state.allocs[v as usize];
        if a.state != AllocState::Running {
            return;
        }
        let Some(p) = a.preemption.clone() else { return };
        let mode = a.request.preemption.mode;
        self.release_with_mode(v, now, mode, p.reason);
    }

    /// Frees `gain` of `v` (GPUs the preemptor may use first), never below its `min`.
    fn shrink(&mut self, v: u32, gain: Gain, usable: &[bool], now: i64, by: &str) {
        let Some(n) = self.state.allocs[v as usize].node.as_ref().and_then(|n| self.index.node_index.get(n)).copied()
        else {
            return;
        };
        let pooled = self.draws_from_resv(v);
        let node = &mut self.state.nodes[n as usize];
        self.index.by_free_gpus.remove(&(node.free_whole_gpus(), n));
        let a = &mut self.state.allocs[v as usize];
        let mut dropped = Vec::new();
        for _ in 0..gain.0 {
            let Some(pos) = a.gpus.iter().rposition(|g| node.res.gpu_slot(g).is_some_and(|s| usable[s])) else { break };
            let g = a.gpus.remove(pos);
            if let Some(s) = node.res.gpu_slot(&g) {
                node.gpu_used[s] = 0;
            }
            dropped.push(g);
        }
        node.free_cores += gain.1;
        node.free_mem += gain.2;
        if pooled {
            node.in_resv_cores -= gain.1;
            node.in_resv_mem -= gain.2;
        }
        self.index.by_free_gpus.insert((node.free_whole_gpus(), n));
        a.cores -= gain.1;
        a.memory_bytes -= gain.2;
        let ask = &mut self.state.asks[v as usize];
        ask.gpus -= dropped.len() as u32;
        ask.cores -= gain.1;
        ask.mem -= gain.2;
        if let Some(o) = self.owners.held.get_mut(&a.owner) {
            o.gpus -= dropped.len() as u32;
            o.cores -= gain.1;
            o.memory_bytes -= gain.2;
        }
        let message = format!(
            "shrunk to make room for {by}: gave back {} GPU(s), {} cores, {} MiB",
            dropped.len(),
            gain.1,
            gain.2 >> 20
        );
        self.event(now, "shrink", v, message, &[("by", by.to_string()), ("gpus", dropped.join(","))]);
        self.stats.shrinks += 1;
        self.pass.release_epoch += 1;
        self.mark(v);
        self.refresh_node(n);
    }
}

/// Shrinks, lowest priority first, until `have` covers `need`; each gives only what is missing.
fn pick_shrinks(mut have: Gain, need: Gain, cands: impl Iterator<Item = (u32, Gain)>) -> Vec<(u32, Gain)> {
    let mut out = Vec::new();
    for (idx, s) in cands {
        if covers(have, need) {
            break;
        }
        let take = (
            s.0.min(need.0.saturating_sub(have.0)),
            s.1.min(need.1.saturating_sub(have.1)),
            s.2.min(need.2.saturating_sub(have.2)),
        );
        if take != (0, 0, 0) {
            have = add(have, take);
            out.push((idx, take));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::alloc::*;

    const GIB: u64 = 1 << 30;

    fn scheduler(gpus: u32) -> Scheduler {
        let gpus = (0..gpus).map(|i| GpuResource {
            id: NodeResources::gpu_id("n", i),
            index: i,
            name: "GPU".into(),
            memory_bytes: 80 * GIB,
            mig: vec![],
        });
        let node = NodeResources {
            node: "n".into(),
            cores: 16,
            memory_bytes: 64 * GIB,
            labels: Default::default(),
            gpus: gpus.collect(),
            accelerators: vec![],
        };
        Scheduler::new(SchedulerConfig::default(), vec![node])
    }

    fn req(id: &str, gpus: u32, share_gib: Option<u64>, priority: i32, qos: Qos) -> AllocationRequest {
        AllocationRequest {
            id: Some(id.into()),
            owner: "o".into(),
            resources: ResourceAsk {
                gpus,
                gpu_memory_bytes: share_gib.map(|g| g * GIB),
                cores: 1,
                memory_bytes: GIB,
                min: None,
            },
            priority: Some(Priority::Value(priority)),
            qos,
            duration_s: None,
            constraints: Default::default(),
            reservation: None,
            preemption: Default::default(),
            queue: true,
            workload: None,
        }
    }

    fn state(s: &Scheduler, id: &str) -> AllocState {
        s.allocation(id).unwrap().state
    }

    #[test]
    fn a_share_preempts_the_fewest_lowest_shares_on_one_gpu() {
        let mut s = scheduler(1);
        s.allocate(req("big", 1, Some(60), 250, Qos::Burstable), 0).unwrap();
        s.allocate(req("small", 1, Some(20), 0, Qos::BestEffort), 1).unwrap();
        // 30 GiB: preempting "small" (priority 0) frees only 20, so the level is 250, where
        // "big" alone suffices: one victim rather than two.
        let a = s.allocate(req("high", 1, Some(30), 750, Qos::Burstable), 2).unwrap();
        assert_eq!((a.state, a.gpus.as_slice()), (AllocState::Running, ["n/gpu0".to_string()].as_slice()));
        assert_eq!((state(&s, "big"), state(&s, "small")), (AllocState::Pending, AllocState::Running));
        assert_eq!(s.stats.preemptions, 1);
        let events = s.take_changes().events;
        let e = events.iter().find(|e| e.kind == "preemption").unwrap();
        assert_eq!((e.subject.as_str(), e.details["preemptor"].as_str()), ("big", "high"));
    }

    #[test]
    fn a_whole_gpu_request_preempts_every_sharer_of_a_gpu() {
        let mut s = scheduler(1);
        s.allocate(req("s1", 1, Some(30), 0, Qos::BestEffort), 0).unwrap();
        s.allocate(req("s2", 1, Some(30), 250, Qos::Burstable), 1).unwrap();
        let a = s.allocate(req("whole", 1, None, 750, Qos::Burstable), 2).unwrap();
        assert_eq!(a.state, AllocState::Running);
        assert_eq!((state(&s, "s1"), state(&s, "s2")), (AllocState::Pending, AllocState::Pending));
        assert_eq!(s.stats.preemptions, 2);
    }

    #[test]
    fn a_gpu_shared_with_guaranteed_or_equal_priority_work_is_not_freed() {
        for (prio, qos) in [(0, Qos::Guaranteed), (750, Qos::Burstable)] {
            let mut s = scheduler(1);
            s.allocate(req("low", 1, Some(30), 0, Qos::BestEffort), 0).unwrap();
            s.allocate(req("kept", 1, Some(30), prio, qos), 1).unwrap();
            let a = s.allocate(req("whole", 1, None, 750, Qos::Burstable), 2).unwrap();
            assert_eq!(
                (a.state, state(&s, "low"), state(&s, "kept")),
                (AllocState::Pending, AllocState::Running, AllocState::Running),
                "{qos:?} {prio}"
            );
            assert_eq!(s.stats.preemptions, 0);
        }
    }

    #[test]
    fn sharers_count_as_victims_in_the_issues_order() {
        // GPU 0: three shares at priority 0; GPU 1: one whole-GPU holder.
        for (holder_prio, expect_shares_go) in [(0, false), (250, true)] {
            let mut s = scheduler(2);
            s.allocate(req("whole-holder", 1, None, holder_prio, Qos::Burstable), 0).unwrap();
            for k in 0..3 {
                s.allocate(req(&format!("share{k}"), 1, Some(20), 0, Qos::Burstable), 10).unwrap();
            }
            assert_eq!(s.allocation("share0").unwrap().gpus, vec!["n/gpu1".to_string()]);
            let a = s.allocate(req("high", 1, None, 750, Qos::Burstable), 20).unwrap();
            assert_eq!(a.state, AllocState::Running);
            // Same priority: one victim beats three. A higher holder: the lowest priority first.
            let shares_gone = (0..3).all(|k| state(&s, &format!("share{k}")) == AllocState::Pending);
            assert_eq!(
                (shares_gone, state(&s, "whole-holder") == AllocState::Pending),
                (expect_shares_go, !expect_shares_go),
                "holder at {holder_prio}"
            );
        }
    }

    #[test]
    fn a_share_preempts_the_whole_gpu_holder_that_loses_least_work() {
        let mut s = scheduler(2);
        s.allocate(req("old", 1, None, 0, Qos::Burstable), 0).unwrap();
        s.allocate(req("new", 1, None, 0, Qos::Burstable), 5_000).unwrap();
        let a = s.allocate(req("share", 1, Some(10), 500, Qos::Burstable), 10_000).unwrap();
        assert_eq!(a.state, AllocState::Running);
        assert_eq!((state(&s, "old"), state(&s, "new")), (AllocState::Running, AllocState::Pending));
        assert_eq!(a.gpus, ["n/gpu1"]);
    }

    #[test]
    fn a_share_takes_the_gpu_whose_victims_have_the_lowest_priority() {
        let mut s = scheduler(2);
        s.allocate(req("mid", 1, Some(70), 500, Qos::Burstable), 0).unwrap();
        s.allocate(req("low", 1, Some(70), 250, Qos::Burstable), 0).unwrap();
        assert_eq!(s.allocation("low").unwrap().gpus, ["n/gpu1"]);
        let a = s.allocate(req("high", 1, Some(40), 750, Qos::Burstable), 1).unwrap();
        assert_eq!(a.gpus, ["n/gpu1"]);
        assert_eq!((state(&s, "mid"), state(&s, "low")), (AllocState::Running, AllocState::Pending));
    }

    #[test]
    fn guaranteed_and_equal_priorities_are_never_displaced_by_a_share() {
        let mut s = scheduler(1);
        s.allocate(req("guaranteed", 1, Some(50), 0, Qos::Guaranteed), 0).unwrap();
        s.allocate(req("equal", 1, Some(30), 750, Qos::Burstable), 0).unwrap();
        let a = s.allocate(req("high", 1, Some(40), 750, Qos::Burstable), 1).unwrap();
        assert_eq!(a.state, AllocState::Pending);
        assert_eq!(s.stats.preemptions, 0);
        assert_eq!((state(&s, "guaranteed"), state(&s, "equal")), (AllocState::Running, AllocState::Running));
    }

    #[test]
    fn a_whole_gpu_holder_is_shrunk_for_a_share_before_anyone_is_preempted() {
        let mut s = scheduler(2);
        let mut wide = req("wide", 2, None, 0, Qos::Burstable);
        wide.resources.min = Some(ResourceAmount { gpus: 1, cores: 1, memory_bytes: GIB });
        s.allocate(wide, 0).unwrap();
        let a = s.allocate(req("share", 1, Some(10), 500, Qos::Burstable), 1).unwrap();
        assert_eq!(a.state, AllocState::Running);
        let wide = s.allocation("wide").unwrap();
        assert_eq!((wide.state, wide.gpus.len()), (AllocState::Running, 1));
        assert_ne!(wide.gpus, a.gpus);
        assert_eq!((s.stats.shrinks, s.stats.preemptions), (1, 0));
    }

    #[test]
    fn a_share_waits_out_its_victims_grace_period() {
        let mut s = scheduler(1);
        let mut low = req("low", 1, None, 0, Qos::Burstable);
        low.preemption = PreemptionPolicy { mode: PreemptionMode::Cancel, grace_s: 30 };
        s.allocate(low, 0).unwrap();
        let a = s.allocate(req("share", 1, Some(10), 500, Qos::Burstable), 1_000).unwrap();
        assert_eq!(a.state, AllocState::Pending);
        assert!(a.pending_reason.unwrap().contains("grace period"));
        s.tick(31_000);
        assert_eq!((state(&s, "low"), state(&s, "share")), (AllocState::Preempted, AllocState::Running));
    }
}
