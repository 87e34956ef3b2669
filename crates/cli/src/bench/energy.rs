//! `stewardctl bench energy`: the power planner on simulated GPUs whose power–throughput curves
//! are published measurements (Zeus, NSDI '23: `summary_power_v100.csv` of its trace, V100
//! power limit → epoch time and average power, per workload; docs/energy.md cites it). For each
//! workload, the energy saved per unit of work at ≤ 5 % slowdown by the planner (profiling the
//! simulated device with measurement noise, the same core code `plan` runs), beside an oracle
//! that knows the true curve, a fixed cap at 70 % of the default limit and race-to-idle (the
//! default limit), all in the same run. Goal: ≥ 95 % of the oracle's saving with ≤ 60 s of
//! profiling per device.

use anyhow::Result;
use clap::Args;
use steward_core::power::profiling::{coarse_limits, refine_limits};
use steward_core::power::{Objective, ProfilePoint, at_limit, choose};

/// (power limit W, seconds per epoch, average power W) from the Zeus V100 trace.
type Published = [(f64, f64, f64); 7];

const WORKLOADS: [(&str, Published); 4] = [
    (
        "ResNet-50 / ImageNet, batch 256",
        [
            (100.0, 6781.17, 98.38),
            (125.0, 5064.97, 121.97),
            (150.0, 4148.66, 144.59),
            (175.0, 3852.18, 166.37),
            (200.0, 3700.97, 184.94),
            (225.0, 3584.30, 205.44),
            (250.0, 3514.99, 220.25),
        ],
    ),
    (
        "BERT-base / SQuAD, batch 32",
        [
            (100.0, 3583.43, 99.48),
            (125.0, 2734.55, 121.83),
            (150.0, 2221.15, 146.42),
            (175.0, 1939.23, 170.59),
            (200.0, 1843.13, 191.18),
            (225.0, 1776.25, 212.62),
            (250.0, 1733.29, 228.22),
        ],
    ),
    (
        "DeepSpeech2 / LibriSpeech, batch 192",
        [
            (100.0, 8477.90, 98.12),
            (125.0, 7361.96, 114.99),
            (150.0, 6845.56, 125.74),
            (175.0, 6533.73, 134.77),
            (200.0, 6353.21, 143.93),
            (225.0, 6199.13, 153.22),
            (250.0, 6181.63, 160.56),
        ],
    ),
    (
        "ShuffleNet-v2 / CIFAR-100, batch 1024",
        [
            (100.0, 11.2767, 86.86),
            (125.0, 9.2167, 109.30),
            (150.0, 8.4933, 130.97),
            (175.0, 8.2133, 137.94),
            (200.0, 7.8433, 159.25),
            (225.0, 7.6700, 178.42),
            (250.0, 7.6133, 187.69),
        ],
    ),
];

#[derive(Args)]
pub struct EnergyBenchArgs {
    /// Slowdown allowed, in percent.
    #[arg(long, default_value_t = 5.0)]
    max_slowdown_pct: f64,
    /// Seconds measured at each profiled limit (a fifth more to settle).
    #[arg(long, default_value_t = 5.0)]
    profile_seconds: f64,
    /// Limits in the coarse sweep (two more refine it).
    #[arg(long, default_value_t = 6)]
    points: usize,
    /// Relative noise of a one-second measurement (it shrinks with the square root of the window).
    #[arg(long, default_value_t = 0.01)]
    noise: f64,
    /// Simulated profiling runs per workload (different noise seeds).
    #[arg(long, default_value_t = 50)]
    seeds: u64,
}

/// The true curve: the published points, linear between them.
fn truth(published: &Published) -> Vec<ProfilePoint> {
    published
        .iter()
        .map(|&(limit_w, epoch_s, power_w)| ProfilePoint { limit_w, throughput: 1.0 / epoch_s, power_w })
        .collect()
}

/// SplitMix64 and Box–Muller: seeded, so every run measures the same noise.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn gaussian(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-12), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Saving and slowdown (%) of `limit_w` on the true curve, against the default limit.
fn true_effect(curve: &[ProfilePoint], limit_w: f64, default_w: f64) -> (f64, f64) {
    let (p, base) = (at_limit(curve, limit_w).expect("a curve"), at_limit(curve, default_w).expect("a curve"));
    (
        100.0 * (1.0 - p.energy_per_unit() / base.energy_per_unit()),
        100.0 * (p.time_per_unit() / base.time_per_unit() - 1.0),
    )
}

/// One profiling run as `plan` does it: the chosen limit and the seconds spent profiling.
fn plan_once(curve: &[ProfilePoint], args: &EnergyBenchArgs, objective: Objective, noise: &mut Noise) -> (f64, f64) {
    let (min_w, default_w) = (curve[0].limit_w, curve[curve.len() - 1].limit_w);
    let sigma = args.noise / args.profile_seconds.sqrt();
    let mut measure = |limit_w: f64| {
        let p = at_limit(curve, limit_w).expect("a curve");
        ProfilePoint {
            limit_w,
            throughput: p.throughput * (1.0 + sigma * noise.gaussian()),
            power_w: p.power_w * (1.0 + sigma * noise.gaussian()),
        }
    };
    let mut profile: Vec<ProfilePoint> =
        coarse_limits(min_w, default_w, args.points).into_iter().map(&mut measure).collect();
    let more = refine_limits(&profile, default_w, objective, min_w);
    profile.extend(more.into_iter().map(&mut measure));
    let seconds = profile.len() as f64 * args.profile_seconds * 1.2;
    let limit = choose(&profile, default_w, objective).map_or(default_w, |c| c.limit_w);
    (limit, seconds)
}

pub fn run(args: EnergyBenchArgs) -> Result<()> {
    let objective = Objective::MaxSlowdown { pct: args.max_slowdown_pct };
    println!(
        "energy saved per unit of work at ≤ {} % slowdown (V100 curves, Zeus NSDI '23 trace); planner: {} runs, noise {} % per s",
        args.max_slowdown_pct,
        args.seeds,
        args.noise * 100.0
    );
    println!(
        "{:<38} {:>7} {:>8} {:>7} {:>6} {:>6} {:>9} {:>10} {:>19} {:>12}",
        "workload",
        "oracle",
        "planner",
        "slower",
        "worst",
        "over",
        "of oracle",
        "profiling",
        "70 % cap",
        "race-to-idle"
    );
    let mut shares = Vec::new();
    for (name, published) in &WORKLOADS {
        let curve = truth(published);
        let default_w = curve[curve.len() - 1].limit_w;
        let oracle_limit = choose(&curve, default_w, objective).map_or(default_w, |c| c.limit_w);
        let (oracle, _) = true_effect(&curve, oracle_limit, default_w);
        let mut noise = Noise(0x5EED ^ name.len() as u64);
        let (mut saved, mut slower, mut over, mut seconds, mut worst) = (0.0, 0.0, 0u64, 0.0f64, 0.0f64);
        for _ in 0..args.seeds {
            let (limit, s) = plan_once(&curve, &args, objective, &mut noise);
            let (saving, slowdown) = true_effect(&curve, limit, default_w);
            saved += saving / args.seeds as f64;
            slower += slowdown / args.seeds as f64;
            worst = worst.max(slowdown);
            over += u64::from(slowdown > args.max_slowdown_pct + 0.05);
            seconds = seconds.max(s);
        }
        let over_pct = 100.0 * over as f64 / args.seeds as f64;
        let (cap_saving, cap_slowdown) = true_effect(&curve, 0.7 * default_w, default_w);
        let share = if oracle > 0.0 { 100.0 * saved / oracle } else { 100.0 };
        shares.push(share);
        println!(
            "{name:<38} {oracle:>6.1}% {saved:>7.1}% {slower:>6.1}% {worst:>5.1}% {over_pct:>5.0}% {share:>8.1}% {seconds:>9.0}s {cap_saving:>5.1}% ({cap_slowdown:>4.1}% slower) {:>11.1}%",
            0.0
        );
    }
    let mean = shares.iter().sum::<f64>() / shares.len() as f64;
    println!(
        "planner: {mean:.1} % of the oracle's saving on average (goal ≥ 95 %), worst workload {:.1} %",
        shares.iter().copied().fold(f64::INFINITY, f64::min)
    );
    Ok(())
}
