//! Generated usage traces with a known shape, for forecast tests and `stewardctl bench forecast`.
//! Seeded and deterministic; one value per minute, in percent of a resource.

use std::f64::consts::TAU;

/// SplitMix64: small, fast and good enough for synthetic traces.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (TAU * self.uniform()).cos()
    }
}

const DAY: usize = 1440;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A service following the day: busy afternoons, quiet nights, noise proportional to load.
    Diurnal,
    /// Batch jobs at random times on a quiet machine.
    BurstyBatch,
    /// Steady levels that change abruptly now and then (deploys, reconfigurations).
    StepChanges,
    /// A service following the day on weekdays and idling at weekends.
    WeeklyCycle,
    /// A steady load with rare short spikes (a cron job, a cache rebuild) every day or two.
    RareSpikes,
    /// A daily cycle on a level that drifts slowly (a growing user base, a leak).
    SlowDrift,
    /// Jobs arriving at random whose lengths and heights have long tails (most short, some
    /// running for hours).
    BurstyLongTail,
}

impl Family {
    pub const ALL: [Family; 7] = [
        Family::Diurnal,
        Family::BurstyBatch,
        Family::StepChanges,
        Family::WeeklyCycle,
        Family::RareSpikes,
        Family::SlowDrift,
        Family::BurstyLongTail,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Diurnal => "diurnal service",
            Family::BurstyBatch => "bursty batch",
            Family::StepChanges => "step changes",
            Family::WeeklyCycle => "weekly cycle",
            Family::RareSpikes => "rare spikes",
            Family::SlowDrift => "slow drift",
            Family::BurstyLongTail => "long-tail bursts",
        }
    }

    pub fn generate(self, seed: u64, days: usize) -> Vec<f64> {
        match self {
            Family::Diurnal => diurnal(seed, days),
            Family::BurstyBatch => bursty(seed, days),
            Family::StepChanges => steps(seed, days),
            Family::WeeklyCycle => weekly(seed, days),
            Family::RareSpikes => spikes(seed, days),
            Family::SlowDrift => drift(seed, days),
            Family::BurstyLongTail => long_tail(seed, days),
        }
    }
}

fn diurnal(seed: u64, days: usize) -> Vec<f64> {
    let mut r = Rng::new(seed);
    let base = r.range(20.0, 40.0);
    let amp = r.range(15.0, 30.0);
    let phase = r.range(0.0, TAU);
    let noise = r.range(0.03, 0.06);
    let mut ar = 0.0;
    (0..days * DAY)
        .map(|t| {
            let x = t as f64 * TAU / DAY as f64 + phase;
            let shape = x.sin() + 0.3 * (2.0 * x).sin();
            // Slowly wandering (AR(1)) noise plus white noise, both relative to the load.
            ar = 0.95 * ar + 0.3 * r.normal();
            let level = base + amp * shape;
            (level * (1.0 + noise * (r.normal() + ar))).clamp(0.0, 100.0)
        })
        .collect()
}

fn bursty(seed: u64, days: usize) -> Vec<f64> {
    let mut r = Rng::new(seed);
    let idle = r.range(2.0, 8.0);
    let mut y = vec![0.0; days * DAY];
    let mut job: Option<(usize, f64)> = None; // (ends at, height)
    for (t, v) in y.iter_mut().enumerate() {
        if let Some((end, height)) = job {
            *v = height * (1.0 + 0.05 * r.normal());
            if t >= end {
                job = None;
            }
        } else {
            *v = idle * (1.0 + 0.2 * r.normal());
            // On average one job every 3 hours, 20 to 120 minutes long.
            if r.uniform() < 1.0 / 180.0 {
                job = Some((t + r.range(20.0, 120.0) as usize, r.range(40.0, 90.0)));
            }
        }
        *v = v.clamp(0.0, 100.0);
    }
    y
}

fn steps(seed: u64, days: usize) -> Vec<f64> {
    let mut r = Rng::new(seed);
    let mut level = r.range(20.0, 70.0);
    (0..days * DAY)
        .map(|_| {
            // On average a change every 8 hours.
            if r.uniform() < 1.0 / 480.0 {
                level = r.range(10.0, 85.0);
            }
            (level * (1.0 + 0.04 * r.normal())).clamp(0.0, 100.0)
        })
        .collect()
}

fn weekly(seed: u64, days: usize) -> Vec<f64> {
    let mut r = Rng::new(seed);
    let weekend = r.range(0.2, 0.5);
    let first_day = (r.uniform() * 7.0) as usize;
    diurnal(seed, days)
        .into_iter()
        .enumerate()
        .map(|(t, v)| if (first_day + t / DAY) % 7 >= 5 { v * weekend } else { v })
        .collect()
}

fn spikes(seed: u64, days: usize) -> Vec<f64> {
    let mut r = Rng::new(seed);
    let base = r.range(10.0, 40.0);
    let mut spike: Option<(usize, f64)> = None;
    (0..days * DAY)
        .map(|t| {
            if spike.is_some_and(|(end, _)| t >= end) {
                spike = None;
            }
            // On average one spike every 36 hours, 2 to 10 minutes long.
            if spike.is_none() && r.uniform() < 1.0 / (36.0 * 60.0) {
                spike = Some((t + r.range(2.0, 10.0) as usize, r.range(70.0, 100.0)));
            }
            let v = spike.map_or(base * (1.0 + 0.05 * r.normal()), |(_, h)| h * (1.0 + 0.02 * r.normal()));
            v.clamp(0.0, 100.0)
        })
        .collect()
}

fn drift(seed: u64, days: usize) -> Vec<f64> {
    let mut r = Rng::new(seed);
    let start = r.range(15.0, 30.0);
    // Up to 4 points a day, either way.
    let per_minute = r.range(-4.0, 4.0) / DAY as f64;
    let amp = r.range(5.0, 12.0);
    let phase = r.range(0.0, TAU);
    (0..days * DAY)
        .map(|t| {
            let x = t as f64 * TAU / DAY as f64 + phase;
            let level = start + days as f64 * 2.0 + per_minute * t as f64 + amp * x.sin();
            (level * (1.0 + 0.04 * r.normal())).clamp(0.0, 100.0)
        })
        .collect()
}

fn long_tail(seed: u64, days: usize) -> Vec<f64> {
    let mut r = Rng::new(seed);
    let idle = r.range(2.0, 8.0);
    let mut jobs: Vec<(usize, f64)> = Vec::new(); // (ends at, height), overlapping
    (0..days * DAY)
        .map(|t| {
            jobs.retain(|&(end, _)| t < end);
            // On average one arrival every 2 hours; Pareto lengths (α 1.2, from 5 minutes) and
            // heights (α 2, from 10 points).
            if r.uniform() < 1.0 / 120.0 {
                let length = 5.0 / r.uniform().max(1e-9).powf(1.0 / 1.2);
                let height = 10.0 / r.uniform().max(1e-9).powf(0.5);
                jobs.push((t + length.min(2.0 * DAY as f64) as usize, height));
            }
            let busy: f64 = jobs.iter().map(|j| j.1).sum();
            ((idle + busy) * (1.0 + 0.05 * r.normal())).clamp(0.0, 100.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_are_deterministic_and_in_range() {
        for f in Family::ALL {
            let a = f.generate(3, 2);
            assert_eq!(a, f.generate(3, 2));
            assert_ne!(a, f.generate(4, 2));
            assert_eq!(a.len(), 2 * DAY);
            assert!(a.iter().all(|v| (0.0..=100.0).contains(v)));
        }
    }
}
