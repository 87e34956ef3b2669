//! The mapper's input in one flat table: the time of every task on every device (infinite
//! where it cannot run), when each device comes free, and each device's power.

/// Seconds; `f64::INFINITY` marks a task that cannot run on a device.
#[derive(Debug, Clone)]
pub struct Costs {
    pub tasks: usize,
    pub devices: usize,
    /// Row-major: `time[t * devices + d]`.
    pub time: Vec<f64>,
    /// Seconds from now until each device is free.
    pub available: Vec<f64>,
    /// Watts at full load; `None` unknown.
    pub power: Vec<Option<f64>>,
}

impl Costs {
    pub fn new(time: Vec<Vec<f64>>, available: Vec<f64>, power: Vec<Option<f64>>) -> Costs {
        let devices = available.len();
        debug_assert!(time.iter().all(|r| r.len() == devices));
        Costs { tasks: time.len(), devices, time: time.into_iter().flatten().collect(), available, power }
    }

    pub fn p(&self, t: usize, d: usize) -> f64 {
        self.time[t * self.devices + d]
    }

    pub fn row(&self, t: usize) -> &[f64] {
        &self.time[t * self.devices..(t + 1) * self.devices]
    }

    /// Energy of task `t` on `d`; infinite where it cannot run or the power is unknown.
    pub fn energy(&self, t: usize, d: usize) -> f64 {
        self.power[d].map_or(f64::INFINITY, |w| w * self.p(t, d))
    }

    /// Whether task `t` can run anywhere.
    pub fn placeable(&self, t: usize) -> bool {
        self.row(t).iter().any(|p| p.is_finite())
    }

    /// Each device's finish time under `assign` (`None`: the task is not placed).
    pub fn loads(&self, assign: &[Option<usize>]) -> Vec<f64> {
        let mut loads = self.available.clone();
        for (t, d) in assign.iter().enumerate() {
            if let Some(d) = *d {
                loads[d] += self.p(t, d);
            }
        }
        loads
    }

    pub fn makespan(&self, assign: &[Option<usize>]) -> f64 {
        let placed = assign.iter().any(Option::is_some);
        if !placed {
            return 0.0;
        }
        self.loads(assign)
            .iter()
            .enumerate()
            .filter(|(d, _)| assign.contains(&Some(*d)))
            .map(|(_, l)| *l)
            .fold(0.0, f64::max)
    }

    pub fn energy_of(&self, assign: &[Option<usize>]) -> f64 {
        assign.iter().enumerate().filter_map(|(t, d)| d.map(|d| self.energy(t, d))).sum()
    }
}
