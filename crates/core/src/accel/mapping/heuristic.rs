//! The heuristic for large instances: longest-processing-time order with earliest finish
//! (HEFT's rule for independent tasks), then local search that moves or swaps tasks off the
//! device finishing last while that strictly lowers it. O(T·D) to build, cheap per step after.

use super::costs::Costs;

/// Each placeable task, biggest first (by its best time), onto the device where it finishes
/// earliest.
pub fn earliest_finish(c: &Costs) -> Vec<Option<usize>> {
    let mut order: Vec<(f64, usize)> = (0..c.tasks)
        .filter(|&t| c.placeable(t))
        .map(|t| (c.row(t).iter().copied().fold(f64::INFINITY, f64::min), t))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut loads = c.available.clone();
    let mut assign = vec![None; c.tasks];
    for (_, t) in order {
        let row = c.row(t);
        let d = (0..c.devices)
            .filter(|&d| row[d].is_finite())
            .min_by(|&a, &b| (loads[a] + row[a]).total_cmp(&(loads[b] + row[b])))
            .expect("placeable");
        loads[d] += row[d];
        assign[t] = Some(d);
    }
    assign
}

/// Moves and swaps that strictly lower the last-finishing device's time, until none is left
/// or `max_steps` were made.
pub fn improve(c: &Costs, assign: &mut [Option<usize>], max_steps: usize) {
    let mut loads = c.loads(assign);
    let mut on: Vec<Vec<usize>> = vec![Vec::new(); c.devices];
    for (t, d) in assign.iter().enumerate() {
        if let Some(d) = d {
            on[*d].push(t);
        }
    }
    for _ in 0..max_steps {
        let Some(crit) = (0..c.devices).filter(|&d| !on[d].is_empty()).max_by(|&a, &b| loads[a].total_cmp(&loads[b]))
        else {
            return;
        };
        let step = best_move(c, &loads, &on, crit).or_else(|| best_swap(c, &loads, &on, assign, crit));
        let Some(step) = step else { return };
        apply(c, step, &mut loads, &mut on, assign);
    }
}

#[derive(Clone, Copy)]
enum Step {
    Move { t: usize, from: usize, to: usize },
    Swap { t: usize, from: usize, u: usize, to: usize },
}

fn best_move(c: &Costs, loads: &[f64], on: &[Vec<usize>], crit: usize) -> Option<Step> {
    let mut best: Option<(f64, Step)> = None;
    for &t in &on[crit] {
        let row = c.row(t);
        let left = loads[crit] - row[crit];
        for to in (0..c.devices).filter(|&d| d != crit && row[d].is_finite()) {
            let worst = left.max(loads[to] + row[to]);
            if worst < loads[crit] && best.is_none_or(|(w, _)| worst < w) {
                best = Some((worst, Step::Move { t, from: crit, to }));
            }
        }
    }
    best.map(|(_, s)| s)
}

fn best_swap(c: &Costs, loads: &[f64], on: &[Vec<usize>], assign: &[Option<usize>], crit: usize) -> Option<Step> {
    let mut best: Option<(f64, Step)> = None;
    for &t in &on[crit] {
        for (u, d) in assign.iter().enumerate() {
            let Some(to) = *d else { continue };
            if to == crit || !c.p(u, crit).is_finite() || !c.p(t, to).is_finite() {
                continue;
            }
            let a = loads[crit] - c.p(t, crit) + c.p(u, crit);
            let b = loads[to] - c.p(u, to) + c.p(t, to);
            let worst = a.max(b);
            if worst < loads[crit] && best.is_none_or(|(w, _)| worst < w) {
                best = Some((worst, Step::Swap { t, from: crit, u, to }));
            }
        }
    }
    best.map(|(_, s)| s)
}

fn apply(c: &Costs, step: Step, loads: &mut [f64], on: &mut [Vec<usize>], assign: &mut [Option<usize>]) {
    let mut shift = |t: usize, from: usize, to: usize| {
        loads[from] -= c.p(t, from);
        loads[to] += c.p(t, to);
        on[from].retain(|&x| x != t);
        on[to].push(t);
        assign[t] = Some(to);
    };
    match step {
        Step::Move { t, from, to } => shift(t, from, to),
        Step::Swap { t, from, u, to } => {
            shift(t, from, to);
            shift(u, to, from);
        }
    }
}
