//! Quick tuning runner for the forecaster (the reported figures come from `stewardctl bench
//! forecast`): `cargo run --release -p steward-core --example forecast_bench -- FIRST SEEDS [FAMILY]`
//! prints, per family, the mean upper slack / exceedance of the calibrated operating point
//! (`at_most_baseline_misses`) beside the VPA-style baseline's, and the same over the seeds where the baseline missed
//! under 0.2 % (the hardest to match). `PER_SEED=1` adds each seed; `SHIFTS=1` adds shift pricing.
//! Tune on seeds 1..=20 only: the benchmark's seeds (101..=110, …, 601..=610) are held out.

use steward_core::profile::forecast::ForecastConfig;
use steward_core::profile::forecast::backtest::backtest;
use steward_core::profile::traces::Family;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let first: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(1);
    let seeds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let only = args.get(2).cloned();
    let matched = ForecastConfig { capacity: Some(100.0), at_most_baseline_misses: true, ..ForecastConfig::default() };
    let shifts = ForecastConfig { cover_level_shifts: true, ..matched };
    let mut configs = vec![("≤ VPA's misses", matched)];
    if std::env::var_os("SHIFTS").is_some() {
        configs.push(("+ shifts priced", shifts));
    }
    for family in Family::ALL.into_iter().filter(|f| only.as_deref().is_none_or(|o| f.name().starts_with(o))) {
        for (name, cfg) in &configs {
            let (mut slack, mut exc, mut bslack, mut bexc, mut worse) = (0.0, 0.0, 0.0, 0.0, 0);
            // Seeds where the baseline hardly misses: the hardest to match.
            let mut rare = (0.0, 0.0, 0.0, 0.0, 0);
            for seed in first..first + seeds {
                let a = *backtest(&family.generate(seed, 8), 0, cfg).value().expect("8 days suffice");
                slack += a.upper_slack_pct;
                exc += a.upper_exceeded_pct;
                bslack += a.baseline_slack_pct;
                bexc += a.baseline_exceeded_pct;
                worse += usize::from(a.upper_exceeded_pct > a.baseline_exceeded_pct);
                if a.baseline_exceeded_pct < 0.2 {
                    rare = (
                        rare.0 + a.upper_slack_pct,
                        rare.1 + a.upper_exceeded_pct,
                        rare.2 + a.baseline_slack_pct,
                        rare.3 + a.baseline_exceeded_pct,
                        rare.4 + 1,
                    );
                }
                if std::env::var_os("PER_SEED").is_some() {
                    println!(
                        "  seed {seed:>3}: {:>5.2} % {:>6.3} % | VPA {:>5.2} % {:>6.3} %",
                        a.upper_slack_pct, a.upper_exceeded_pct, a.baseline_slack_pct, a.baseline_exceeded_pct
                    );
                }
            }
            let n = seeds as f64;
            println!(
                "{:<16} {:<16} slack {:>5.2} % exc {:>6.3} % | VPA {:>5.2} % {:>6.3} % | seeds missing more: {worse}",
                family.name(),
                name,
                slack / n,
                exc / n,
                bslack / n,
                bexc / n
            );
            let m = f64::from(rare.4.max(1));
            println!(
                "{:<33} where VPA misses < 0.2 % ({} seeds): {:>5.2} % {:>6.3} % | VPA {:>5.2} % {:>6.3} %",
                "",
                rare.4,
                rare.0 / m,
                rare.1 / m,
                rare.2 / m,
                rare.3 / m
            );
        }
    }
}
