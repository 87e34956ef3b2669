//! Priced packing: for a makespan guess `T`, each task (biggest first) goes to the device where
//! it is cheapest at the lower bound's device prices (the assignment LP's dual: what a second
//! of each device is worth), among those that still finish it by `T`, else where it finishes
//! earliest; binary search on `T` keeps the best. Earliest-finish alone spends a device's time
//! on work another device does relatively better (f32 matrix work on an H100 rather than an
//! L40S); the prices steer each task to where it is relatively efficient, as the LP does.

use super::costs::Costs;

const ROUNDS: usize = 24;

/// The best packing found for guesses between `lo` (a lower bound) and `hi`.
pub fn pack(c: &Costs, prices: &[f64], lo: f64, hi: f64) -> Vec<Option<usize>> {
    let order = biggest_first(c);
    let (mut lo, mut hi) = (lo, hi);
    let mut best = by_deadline(c, &order, prices, hi);
    let mut best_makespan = c.makespan(&best);
    for _ in 0..ROUNDS {
        if hi - lo <= 1e-4 * hi {
            break;
        }
        let mid = 0.5 * (lo + hi);
        let a = by_deadline(c, &order, prices, mid);
        let m = c.makespan(&a);
        if m < best_makespan {
            (best, best_makespan) = (a, m);
        }
        if m <= mid { hi = mid } else { lo = mid }
    }
    best
}

fn biggest_first(c: &Costs) -> Vec<usize> {
    let mut order: Vec<(f64, usize)> = (0..c.tasks)
        .filter(|&t| c.placeable(t))
        .map(|t| (c.row(t).iter().copied().fold(f64::INFINITY, f64::min), t))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    order.into_iter().map(|(_, t)| t).collect()
}

fn by_deadline(c: &Costs, order: &[usize], prices: &[f64], deadline: f64) -> Vec<Option<usize>> {
    let mut loads = c.available.clone();
    let mut assign = vec![None; c.tasks];
    for &t in order {
        let row = c.row(t);
        let finish = |d: usize| loads[d] + row[d];
        let eligible = || (0..c.devices).filter(|&d| row[d].is_finite());
        let d = eligible()
            .filter(|&d| finish(d) <= deadline)
            .min_by(|&a, &b| {
                (prices[a] * row[a]).total_cmp(&(prices[b] * row[b])).then(finish(a).total_cmp(&finish(b)))
            })
            .or_else(|| eligible().min_by(|&a, &b| finish(a).total_cmp(&finish(b))))
            .expect("placeable");
        loads[d] += row[d];
        assign[t] = Some(d);
    }
    assign
}
