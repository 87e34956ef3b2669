//! The mapping optimizer: which accelerator runs each task so that all finish soonest (or use
//! the least energy), from each task's estimated time on each device.
//!
//! Small instances are solved exactly (`exact`, branch and bound); large ones by the better of
//! HEFT's earliest-finish rule and deadline packing (`packing`), each polished by local search
//! (`heuristic`), and never worse than first-fit or round-robin (`baselines`). Every answer carries a lower bound
//! (`bound`), so its distance from the optimum is known, and each placement its runners-up.
//! A task holds one device at a time; tasks on one device run one after another.

mod baselines;
mod bound;
mod costs;
mod exact;
mod heuristic;
mod packing;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use baselines::{first_fit, round_robin};
pub use bound::lower_bound;
pub use costs::Costs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Policy {
    /// Minimize the time until every task has finished (makespan).
    #[default]
    Time,
    /// Minimize the energy of all tasks (at each device's power limit); ties go to the earlier finish.
    Energy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Method {
    /// Proven optimal for the estimates.
    Exact,
    /// Earliest finish plus local search; compare the makespan with `lower_bound_s`.
    Heuristic,
}

/// Instances this small are searched exactly (the search still stops at `EXACT_BUDGET` nodes).
const EXACT_MAX_TASKS: usize = 12;
const EXACT_BUDGET: u64 = 2_000_000;

/// The chosen device per task (`None`: it cannot run anywhere), how it was found, its bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub assign: Vec<Option<usize>>,
    pub method: Method,
    pub makespan: f64,
    pub energy: f64,
    pub lower_bound: f64,
}

pub fn solve(c: &Costs, policy: Policy) -> Solution {
    let (assign, method, lower_bound) = match policy {
        Policy::Time => {
            let (bound, prices) = bound::bound_and_prices(c);
            let (assign, method) = by_time(c, bound, &prices);
            (assign, method, bound)
        }
        Policy::Energy => {
            let assign = by_energy(c);
            let least = c.energy_of(&assign);
            (assign, Method::Exact, least)
        }
    };
    Solution { makespan: c.makespan(&assign), energy: c.energy_of(&assign), assign, method, lower_bound }
}

fn by_time(c: &Costs, bound: f64, prices: &[f64]) -> (Vec<Option<usize>>, Method) {
    let mut assign = heuristic::earliest_finish(c);
    heuristic::improve(c, &mut assign, 20 * c.tasks.max(1));
    let mut packed = packing::pack(c, prices, bound, c.makespan(&assign));
    heuristic::improve(c, &mut packed, 20 * c.tasks.max(1));
    if c.makespan(&packed) < c.makespan(&assign) {
        assign = packed;
    }
    // Local search can stall above a naive spread on some instances: never answer worse than
    // the baselines the answer is judged against.
    for naive in [first_fit(c), round_robin(c)] {
        if c.makespan(&naive) < c.makespan(&assign) {
            assign = naive;
        }
    }
    if c.tasks <= EXACT_MAX_TASKS
        && let Some(best) = exact::optimal(c, assign.clone(), EXACT_BUDGET)
    {
        return (best, Method::Exact);
    }
    (assign, Method::Heuristic)
}

/// Energy has no interplay between tasks: each goes where it costs least, ties to the earlier
/// finish.
fn by_energy(c: &Costs) -> Vec<Option<usize>> {
    let mut loads = c.available.clone();
    (0..c.tasks)
        .map(|t| {
            let d = (0..c.devices).filter(|&d| c.energy(t, d).is_finite()).min_by(|&a, &b| {
                c.energy(t, a)
                    .total_cmp(&c.energy(t, b))
                    .then((loads[a] + c.p(t, a)).total_cmp(&(loads[b] + c.p(t, b))))
            })?;
            loads[d] += c.p(t, d);
            Some(d)
        })
        .collect()
}
