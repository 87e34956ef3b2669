//! A mapping of declared tasks onto available devices, explained: the analyzer estimates each
//! task on each device, the optimizer chooses, and every placement shows its start and finish,
//! the basis of its estimate and the runners-up with theirs.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::analyze::fit;
use super::calibration::efficiency;
use super::device::DeviceProfile;
use super::mapping::{Costs, Method, Policy, solve};
use super::needs::needs;
use super::workload::Workload;

/// A task to map: its id and what it declares.
#[derive(Debug, Clone, PartialEq)]
pub struct MapTask {
    pub id: String,
    pub workload: Workload,
}

/// A device the allocation engine offers, free in `free_in_s` seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSlot {
    pub profile: DeviceProfile,
    pub free_in_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Alternative {
    pub device: String,
    /// When the task would finish there, behind what that device already runs in this mapping.
    pub finish_s: f64,
    pub energy_j: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Placement {
    pub task: String,
    pub device: String,
    pub node: String,
    pub start_s: f64,
    pub finish_s: f64,
    pub energy_j: Option<f64>,
    /// What the estimate rests on: the device's figures and the efficiency used.
    pub basis: String,
    /// The next best devices by the policy, with their estimates.
    pub runners_up: Vec<Alternative>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Unplaced {
    pub task: String,
    /// Why each device was ruled out (grouped: the same reason once, with its device count).
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MappingPlan {
    pub policy: Policy,
    pub method: Method,
    /// When the last placed task finishes.
    pub makespan_s: f64,
    /// No mapping of these tasks can finish before this (for the energy policy: the least energy).
    pub lower_bound_s: f64,
    pub energy_j: Option<f64>,
    pub placements: Vec<Placement>,
    pub unplaced: Vec<Unplaced>,
}

const RUNNERS_UP: usize = 3;

/// Every task's time on every device (infinite where it cannot run, with why), and the basis of
/// each task's estimates.
pub struct Estimated {
    pub costs: Costs,
    pub reasons: Vec<Vec<String>>,
    pub bases: Vec<String>,
}

pub fn estimate_costs(tasks: &[MapTask], slots: &[DeviceSlot], policy: Policy, history: &[Workload]) -> Estimated {
    let profiles: Vec<&DeviceProfile> = slots.iter().map(|s| &s.profile).collect();
    let owned: Vec<DeviceProfile> = profiles.iter().map(|p| (*p).clone()).collect();
    let mut reasons = vec![Vec::new(); tasks.len()];
    let mut bases = Vec::with_capacity(tasks.len());
    let time: Vec<Vec<f64>> = tasks
        .iter()
        .enumerate()
        .map(|(t, task)| {
            let n = needs(&task.workload);
            let eff = efficiency(&task.workload, history, &owned);
            bases.push(eff.basis.clone());
            profiles
                .iter()
                .map(|d| match fit(&task.workload, &n, d, eff.value) {
                    Ok(_) if policy == Policy::Energy && d.power_w.is_none() => {
                        reasons[t].push(format!("{} has no power figure to judge energy by", d.name));
                        f64::INFINITY
                    }
                    Ok(e) => e.total_s,
                    Err(why) => {
                        reasons[t].push(why);
                        f64::INFINITY
                    }
                })
                .collect()
        })
        .collect();
    let costs =
        Costs::new(time, slots.iter().map(|s| s.free_in_s).collect(), profiles.iter().map(|d| d.power_w).collect());
    Estimated { costs, reasons, bases }
}

pub fn plan(tasks: &[MapTask], slots: &[DeviceSlot], policy: Policy, history: &[Workload]) -> MappingPlan {
    let Estimated { costs, reasons, bases } = estimate_costs(tasks, slots, policy, history);
    let profiles: Vec<&DeviceProfile> = slots.iter().map(|s| &s.profile).collect();
    let solution = solve(&costs, policy);
    let finish = costs.loads(&solution.assign);
    let starts = start_times(&costs, &solution.assign);
    let mut placements = Vec::new();
    let mut unplaced = Vec::new();
    for (t, task) in tasks.iter().enumerate() {
        let Some(d) = solution.assign[t] else {
            unplaced.push(Unplaced { task: task.id.clone(), reasons: grouped(&reasons[t], slots.len()) });
            continue;
        };
        let p = costs.p(t, d);
        let energy = costs.energy(t, d);
        placements.push(Placement {
            task: task.id.clone(),
            device: profiles[d].id.clone(),
            node: profiles[d].node.clone(),
            start_s: starts[t],
            finish_s: starts[t] + p,
            energy_j: energy.is_finite().then_some(energy),
            basis: format!("{}; {}", profiles[d].source.describe(), bases[t]),
            runners_up: runners_up(&costs, &finish, t, d, policy, &profiles),
        });
    }
    let energy = costs.energy_of(&solution.assign);
    MappingPlan {
        policy,
        method: solution.method,
        makespan_s: solution.makespan,
        lower_bound_s: solution.lower_bound,
        energy_j: energy.is_finite().then_some(energy),
        placements,
        unplaced,
    }
}

/// Tasks on one device run shortest first (it finishes the most tasks early, same makespan).
fn start_times(c: &Costs, assign: &[Option<usize>]) -> Vec<f64> {
    let mut order: Vec<(usize, usize)> = assign.iter().enumerate().filter_map(|(t, d)| Some((t, (*d)?))).collect();
    order.sort_by(|&(a, da), &(b, db)| da.cmp(&db).then(c.p(a, da).total_cmp(&c.p(b, db))));
    let mut clock = c.available.clone();
    let mut starts = vec![0.0; c.tasks];
    for (t, d) in order {
        starts[t] = clock[d];
        clock[d] += c.p(t, d);
    }
    starts
}

fn runners_up(
    c: &Costs,
    finish: &[f64],
    t: usize,
    chosen: usize,
    policy: Policy,
    profiles: &[&DeviceProfile],
) -> Vec<Alternative> {
    let mut alts: Vec<Alternative> = (0..c.devices)
        .filter(|&d| d != chosen && c.p(t, d).is_finite())
        .map(|d| {
            let e = c.energy(t, d);
            Alternative {
                device: profiles[d].id.clone(),
                finish_s: finish[d] + c.p(t, d),
                energy_j: e.is_finite().then_some(e),
            }
        })
        .collect();
    let key = |a: &Alternative| match policy {
        Policy::Time => a.finish_s,
        Policy::Energy => a.energy_j.unwrap_or(f64::INFINITY),
    };
    alts.sort_by(|a, b| key(a).total_cmp(&key(b)).then_with(|| a.device.cmp(&b.device)));
    alts.truncate(RUNNERS_UP);
    alts
}

fn grouped(reasons: &[String], devices: usize) -> Vec<String> {
    if devices == 0 {
        return vec!["no device is available".into()];
    }
    let mut out: Vec<(String, usize)> = Vec::new();
    for r in reasons {
        match out.iter_mut().find(|(x, _)| x == r) {
            Some(e) => e.1 += 1,
            None => out.push((r.clone(), 1)),
        }
    }
    out.into_iter().map(|(r, n)| if n > 1 { format!("{r} ({n} devices)") } else { r }).collect()
}
