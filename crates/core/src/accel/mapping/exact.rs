//! Branch and bound for small instances: tasks biggest first, each tried on every device it
//! fits; a branch is cut when its finish times already reach the best mapping found, or the
//! work still to place (each task at its fastest) cannot fit below it. Interchangeable devices (same times, same start) are
//! tried once while equally loaded. Gives up after `budget` nodes so a request never hangs.

use super::costs::Costs;

/// The optimal assignment (starting from `incumbent`), or `None` when the search ran past
/// `budget` nodes.
pub fn optimal(c: &Costs, incumbent: Vec<Option<usize>>, budget: u64) -> Option<Vec<Option<usize>>> {
    let mut order: Vec<usize> = (0..c.tasks).filter(|&t| c.placeable(t)).collect();
    order.sort_by(|&a, &b| min(c, b).total_cmp(&min(c, a)));
    let rest_min: Vec<f64> = (0..=order.len()).map(|i| order[i..].iter().map(|&t| min(c, t)).sum()).collect();
    let mut s = Search {
        c,
        twins: twins(c),
        best: c.makespan(&incumbent),
        best_assign: incumbent,
        assign: vec![None; c.tasks],
        loads: c.available.clone(),
        nodes: 0,
        budget,
        order,
        rest_min,
    };
    s.dfs(0, 0.0);
    (s.nodes <= s.budget).then_some(s.best_assign)
}

fn min(c: &Costs, t: usize) -> f64 {
    c.row(t).iter().copied().fold(f64::INFINITY, f64::min)
}

/// For each device, an earlier device it is interchangeable with.
fn twins(c: &Costs) -> Vec<Option<usize>> {
    (0..c.devices)
        .map(|d| {
            (0..d).find(|&e| {
                c.available[e] == c.available[d] && (0..c.tasks).all(|t| c.p(t, e).to_bits() == c.p(t, d).to_bits())
            })
        })
        .collect()
}

struct Search<'a> {
    c: &'a Costs,
    twins: Vec<Option<usize>>,
    best: f64,
    best_assign: Vec<Option<usize>>,
    assign: Vec<Option<usize>>,
    loads: Vec<f64>,
    nodes: u64,
    budget: u64,
    order: Vec<usize>,
    rest_min: Vec<f64>,
}

impl Search<'_> {
    /// Whether the work still to place fits below the best makespan at all: each device can
    /// take at most `best − its finish so far` more.
    fn room_for(&self, rest: f64) -> bool {
        let room: f64 = self.loads.iter().map(|l| (self.best - l).max(0.0)).sum();
        room > rest
    }

    fn dfs(&mut self, i: usize, worst: f64) {
        self.nodes += 1;
        if self.nodes > self.budget || worst >= self.best {
            return;
        }
        if i == self.order.len() {
            self.best = worst;
            self.best_assign = self.assign.clone();
            return;
        }
        if !self.room_for(self.rest_min[i]) {
            return;
        }
        let t = self.order[i];
        for d in 0..self.c.devices {
            let p = self.c.p(t, d);
            if !p.is_finite() || self.twins[d].is_some_and(|e| self.loads[e] == self.loads[d]) {
                continue;
            }
            self.loads[d] += p;
            self.assign[t] = Some(d);
            let w = worst.max(self.loads[d]);
            self.dfs(i + 1, w);
            self.loads[d] -= p;
            self.assign[t] = None;
        }
    }
}
