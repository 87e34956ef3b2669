//! A lower bound on the makespan, to judge any mapping against: the larger of
//! - the longest task on its fastest device (plus when that device comes free), and
//! - the Lagrangian bound of the assignment LP: for any device prices `y` on the simplex,
//!   `T ≥ Σ_t min_d y_d·p_td + Σ_d y_d·a_d` (sum the LP's device rows weighted by `y`). Prices
//!   start at each device's speed (exact for uniformly faster devices) and are raised on
//!   devices the priced assignment overloads (exponentiated subgradient steps).

use super::costs::Costs;

const STEPS: usize = 60;

pub fn lower_bound(c: &Costs) -> f64 {
    let longest = longest_task(c);
    longest.max(lagrangian(c, longest))
}

fn longest_task(c: &Costs) -> f64 {
    (0..c.tasks)
        .filter(|&t| c.placeable(t))
        .map(|t| (0..c.devices).map(|d| c.available[d] + c.p(t, d)).fold(f64::INFINITY, f64::min))
        .fold(0.0, f64::max)
}

/// `floor` is a bound already proven: a device free only later than it may stay unused, so its
/// start counts up to `floor` (its row reads `Σ_t p_td·x_td ≤ T − min(a_d, T)`).
fn lagrangian(c: &Costs, floor: f64) -> f64 {
    let start: Vec<f64> = c.available.iter().map(|a| a.min(floor)).collect();
    let tasks: Vec<usize> = (0..c.tasks).filter(|&t| c.placeable(t)).collect();
    if tasks.is_empty() {
        return 0.0;
    }
    let mut y = speeds(c, &tasks);
    let mut best = 0.0f64;
    let mut rate = 1.0;
    for _ in 0..STEPS {
        let (value, load) = priced(c, &tasks, &y, &start);
        best = best.max(value);
        if value <= 0.0 {
            break;
        }
        // Devices loaded past the bound get dearer, idle ones cheaper.
        for d in 0..c.devices {
            y[d] *= (rate * (load[d] - value) / value).clamp(-20.0, 20.0).exp();
        }
        normalize(&mut y);
        rate *= 0.93;
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
fn priced(c: &Costs, tasks: &[usize], y: &[f64], start: &[f64]) -> (f64, Vec<f64>) {
    let mut load = start.to_vec();
    let mut value: f64 = y.iter().zip(start).map(|(y, a)| y * a).sum();
    for &t in tasks {
        let row = c.row(t);
        let mut best = (f64::INFINITY, 0);
        for d in 0..c.devices {
            let v = y[d] * row[d];
            if v < best.0 {
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
