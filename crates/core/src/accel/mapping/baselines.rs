//! What the mapper is compared with: round-robin (task i to the i-th device that can hold it,
//! in turn) and greedy first-fit (each task to the device that can start it first, as a queue
//! that hands the next job to the next free GPU does, blind to speed).

use super::costs::Costs;

pub fn round_robin(c: &Costs) -> Vec<Option<usize>> {
    let mut next = 0;
    (0..c.tasks)
        .map(|t| {
            let d = (0..c.devices).map(|k| (next + k) % c.devices).find(|&d| c.p(t, d).is_finite())?;
            next = d + 1;
            Some(d)
        })
        .collect()
}

pub fn first_fit(c: &Costs) -> Vec<Option<usize>> {
    let mut loads = c.available.clone();
    (0..c.tasks)
        .map(|t| {
            let d = (0..c.devices)
                .filter(|&d| c.p(t, d).is_finite())
                .min_by(|&a, &b| loads[a].total_cmp(&loads[b]).then(a.cmp(&b)))?;
            loads[d] += c.p(t, d);
            Some(d)
        })
        .collect()
}
