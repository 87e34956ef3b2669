//! The wait reason when idle GPUs would fit a request but reservations hold them over the time
//! it would run: the reservations are named, so a user sees what really blocks (an open-ended
//! run overlaps every future reservation on the GPUs it would take).

use super::engine::Scheduler;
use super::time::format_rfc3339;

impl Scheduler {
    /// "waiting for GPUs reserved by …" on the first node whose idle GPUs (with their model
    /// constraint) would hold `idx` but for reservations overlapping `[now, end)`; `None` when
    /// reservations are not what keeps it waiting.
    pub(super) fn reserved_gpus_reason(&self, idx: u32, now: i64, end: Option<i64>) -> Option<String> {
        let a = &self.state.allocs[idx as usize];
        let ask = self.state.asks[idx as usize];
        if a.reservation.is_some() || ask.gpus == 0 || ask.gpu_share.is_some() {
            return None;
        }
        // Cheap filter first: with no node idle enough, reservations are not the blocker.
        if self.index.by_free_gpus.last().is_none_or(|&(free, _)| free < ask.gpus) {
            return None;
        }
        let c = &a.request.constraints;
        self.state.nodes.iter().find_map(|node| {
            if node.reservations.is_empty() || !node.takes_work() || !node.could_hold(&ask, c) {
                return None;
            }
            let idle: Vec<usize> =
                (0..node.gpu_used.len()).filter(|&s| node.gpu_used[s] == 0 && node.gpu_model_ok(s, c)).collect();
            if (idle.len() as u32) < ask.gpus {
                return None;
            }
            let mut held = 0;
            let mut names = Vec::new();
            let mut reserved = vec![false; node.gpu_used.len()];
            for id in &node.reservations {
                let rs = &self.state.resvs[id];
                let Some(&(start, stop)) = rs.series.overlapping(now, end.unwrap_or(i64::MAX)).first() else {
                    continue;
                };
                let takes: Vec<usize> = rs.gpu_slots.iter().copied().filter(|s| idle.contains(s)).collect();
                if takes.is_empty() {
                    continue;
                }
                for s in takes {
                    held += !reserved[s] as u32;
                    reserved[s] = true;
                }
                let when = if start <= now {
                    format!("until {}", format_rfc3339(stop))
                } else {
                    format!("from {}", format_rfc3339(start))
                };
                names.push(format!("{:?} {when}", rs.rec.name));
            }
            if names.is_empty() || idle.len() as u32 - held >= ask.gpus {
                return None;
            }
            let span = if end.is_some() { "the run" } else { "a run with no duration" };
            Some(format!(
                "waiting for GPUs reserved on {}: {} idle, {} of them reserved by {} (overlapping {span})",
                node.res.node,
                idle.len(),
                held,
                names.join(", ")
            ))
        })
    }
}
