//! Where the calibrated upper recommendation's slack comes from, per seed (tuning seeds only):
//! `cargo run --release -p steward-core --example forecast_diag -- FIRST SEEDS [FAMILY]`.
//! Per seed: slack / exceedance, whether errors were kept relative, the share of scored origins
//! whose outcome was exactly 0 and the slack they contribute, the slack of outcomes below a
//! tenth of the peak, and the slack by the model's forecast level (quintiles of the peak).
//! `Q97=1`: at the 97th error quantile instead.

use steward_core::profile::forecast::ForecastConfig;
use steward_core::profile::forecast::engine::Walk;
use steward_core::profile::forecast::holt_winters::fit;
use steward_core::profile::traces::Family;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let first: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(1);
    let seeds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let family = match args.get(2).map(String::as_str) {
        Some("bursty") => Family::BurstyBatch,
        Some("step") => Family::StepChanges,
        _ => Family::Diurnal,
    };
    let cfg = ForecastConfig {
        capacity: Some(100.0),
        at_most_baseline_misses: std::env::var_os("Q97").is_none(),
        ..ForecastConfig::default()
    };
    let h = cfg.horizon_steps();
    let mut total = [0.0; 4];
    for seed in first..first + seeds {
        let y = family.generate(seed, 8);
        let fit_len = (y.len() as f64 * 0.4) as usize;
        let params = fit(&y[..fit_len], cfg.period_steps(), h);
        let mut walk = Walk::new(&cfg, params, &y[..fit_len], None);
        let peak = y.iter().fold(0.0f64, |m, v| m.max(*v));
        let (mut n, mut slack, mut exc, mut zeros, mut zero_rec0, mut low_slack, mut missed_at_zero) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0);
        let mut by_level = [(0.0, 0.0); 5];
        for (i, &v) in y.iter().enumerate() {
            let o = walk.step(i as i64 * 60_000, v);
            let Some(o) = o.filter(|_| i >= fit_len && i + h < y.len()) else { continue };
            let out = y[i + h];
            let s = if o.upper > 0.0 && out <= o.upper { (o.upper - out) / o.upper } else { 0.0 };
            n += 1.0;
            slack += s;
            exc += f64::from(u8::from(out > o.upper));
            if out == 0.0 {
                zeros += 1.0;
                zero_rec0 += f64::from(u8::from(o.upper == 0.0));
            }
            missed_at_zero += usize::from(o.upper == 0.0 && out > 0.0);
            if out < 0.1 * peak {
                low_slack += s;
            }
            let b = ((o.p50 / peak * 5.0).floor().max(0.0) as usize).min(4);
            by_level[b].0 += 1.0;
            by_level[b].1 += s;
        }
        let zero_slack = zeros - zero_rec0;
        println!(
            "seed {seed:>3} rel {:<5?} smooth {:>2} α {:<5}: slack {:>5.2} % exc {:.3} % | zeros {:>5.2} % (rec 0 at {:>4.0}, {} missed at 0) | low slack {:>5.2} pts | by p50 quintile {}",
            params.relative_floor,
            params.smooth,
            params.alpha,
            100.0 * slack / n,
            100.0 * exc / n,
            100.0 * zeros / n,
            zero_rec0,
            missed_at_zero,
            100.0 * low_slack / n,
            by_level
                .iter()
                .map(|(c, s)| format!("{:>4.0}%/{:>5.1}", 100.0 * c / n, if *c > 0.0 { 100.0 * s / c } else { 0.0 }))
                .collect::<Vec<_>>()
                .join(" ")
        );
        total[0] += 100.0 * slack / n;
        total[1] += 100.0 * exc / n;
        total[2] += 100.0 * zero_slack / n;
        total[3] += 100.0 * low_slack / n;
    }
    let k = seeds as f64;
    println!(
        "mean slack {:.2} % exc {:.3} % | zeros' slack {:.2} pts | outcomes under 10 % of peak {:.2} pts",
        total[0] / k,
        total[1] / k,
        total[2] / k,
        total[3] / k
    );
}
