//! A lower bound on the makespan, to judge any mapping against: the larger of
//! - the longest task on its fastest device (plus when that device comes free), and
//! - the Lagrangian bound of the assignment LP: for any device prices `y` on the simplex,
//!   `T ≥ Σ_t min_d y_d·p_td + Σ_d y_d·a_d` (sum the LP's device rows weighted by `y`). Prices
//!   start at each device's speed (exact for uniformly faster devices) and are raised on
//!   devices the priced assignment overloads (exponentiated subgradient steps, halved and
//!   retried from the best prices when a step overshoots).

use super::costs::Costs;

const STEPS: usize = 60;

pub fn lower_bound(c: &Costs) -> f64 {
    bound_and_prices(c).0
}

/// The bound and the device prices that gave it (the packing heuristic prices devices by them).
pub(super) fn bound_and_prices(c: &Costs) -> (f64, Vec<f64>) {
    let longest = longest_task(c);
    let (value, prices) = lagrangian(c, longest);
    (longest.max(value), prices)
}

fn longest_task(c: &Costs) -> f64 {
    (0..c.tasks)
        .filter(|&t| c.placeable(t))
        .map(|t| (0..c.devices).map(|d| c.available[d] + c.p(t, d)).fold(f64::INFINITY, f64::min))
        .fold(0.0, f64::max)
}

/// `floor` is a bound already proven: a device free only later than it may stay unused, so its
/// start counts up to `floor` (its row reads `Σ_t p_td·x_td ≤ T − min(a_d, T)`).
fn lagrangian(c: &Costs, floor: f64) -> (f64, Vec<f64>) {
    let start: Vec<f64> = c.available.iter().map(|a| a.min(floor)).collect();
    let tasks: Vec<usize> = (0..c.tasks).filter(|&t| c.placeable(t)).collect();
    let mut y = speeds(c, &tasks);
    if tasks.is_empty() {
        return (0.0, y);
    }
    let mut best = (0.0f64, y.clone());
    let mut rate = 0.1;
    for _ in 0..STEPS {
        let (value, load) = priced(c, &tasks, &y, &start);
        if value > best.0 {
            best = (value, y.clone());
            rate *= 1.5;
        } else {
            // Overshot a kink: back to the best prices, with a shorter step.
            y.clone_from(&best.1);
            rate *= 0.5;
        }
        if best.0 <= 0.0 {
            break;
        }
        let load = if y == best.1 && value >= best.0 { load } else { priced(c, &tasks, &y, &start).1 };
        // Devices loaded past the bound get dearer, idle ones cheaper.
        for d in 0..c.devices {
            y[d] *= (rate * (load[d] - best.0) / best.0).clamp(-1.0, 1.0).exp();
        }
        normalize(&mut y);
    }
    best
}

/// Σ_d of 1/p_td over the tasks that can run there: a device's throughput on this task set.
fn speeds(c: &Costs, tasks: &[usize]) -> Vec<f64> {
    let mut y = vec![0.0; c.devices];
    for &t in tasks {
        for (d, p) in c.row(t).iter().enumerate() {
            if p.is_finite() && *p > 0.0 {
                y[d] += 1.0 / p;
            }
        }
    }
    normalize(&mut y);
    y
}

fn normalize(y: &mut [f64]) {
    let sum: f64 = y.iter().sum();
    if sum > 0.0 {
        y.iter_mut().for_each(|v| *v /= sum);
    }
}

/// The bound at prices `y`, and each device's load in the priced assignment (plus its start).
/// Ties (common: prices proportional to speed make related devices tie) go to the least
/// loaded device, so the loads say which devices are really short.
fn priced(c: &Costs, tasks: &[usize], y: &[f64], start: &[f64]) -> (f64, Vec<f64>) {
    let mut load = start.to_vec();
    let mut value: f64 = y.iter().zip(start).map(|(y, a)| y * a).sum();
    for &t in tasks {
        let row = c.row(t);
        let mut best = (f64::INFINITY, 0);
        for d in 0..c.devices {
            let v = y[d] * row[d];
            let tie = v <= best.0 * (1.0 + 1e-9) && v >= best.0 * (1.0 - 1e-9);
            if v < best.0 && !tie || tie && load[d] < load[best.1] {
                best = (v, d);
            }
        }
        if best.0.is_finite() {
            value += best.0;
            load[best.1] += row[best.1];
        }
    }
    (value, load)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_devices_give_the_average_load() {
        let c = Costs::new(vec![vec![2.0, 2.0]; 4], vec![0.0, 0.0], vec![None, None]);
        assert!((lower_bound(&c) - 4.0).abs() < 1e-9);
    }

    #[test]
    fn uniformly_faster_devices_give_the_fluid_bound() {
        // Device 0 is 3× as fast: total work 12 on speeds 3 + 1 → 3 time units.
        let c = Costs::new(vec![vec![1.0, 3.0]; 4], vec![0.0, 0.0], vec![None, None]);
        assert!((lower_bound(&c) - 3.0).abs() < 1e-6, "{}", lower_bound(&c));
    }
}
