//! `stewardctl bench forecast`, second part: what answering from kept forecasts costs on a node
//! with two weeks of 1-minute history and 20 modules, through a real `Steward` on a real SQLite
//! file. The first request of each kind fits its forecasts (what a background refit costs);
//! later ones only read them. The refits' share of a core follows from the fit time: every kept
//! series is refitted once per `REFIT_EVERY_MS` (5 minutes) of new 1-minute data.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use steward_api::{AdapterProbe, ApiConfig, Steward};
use steward_core::profile::module::{Matcher, ModuleSpec};
use steward_core::profile::traces::Family;
use steward_core::profile::{ProfileRequest, ProfilingType};
use steward_core::series::SeriesValue;
use steward_store::{HOUR_MS, MINUTE_MS, RetentionPolicy, Store};

const DAY_MS: i64 = 24 * HOUR_MS;
/// The refit thread's cadence (`steward_api`'s `profile::kept::REFIT_EVERY_MS`).
const REFIT_EVERY: Duration = Duration::from_secs(300);

pub fn run(days: usize, modules: usize, rounds: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db_path = dir.path().join("keeping.db");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
    let series = write_history(&db_path, now, days, modules)?;
    let steward = Steward::start(ApiConfig {
        db_path,
        adapter_probe: AdapterProbe::Skip,
        refit_forecasts: false,
        ..ApiConfig::default()
    })?;
    // The capacities forecasts are clamped to come from the first sample: wait for it.
    while steward.snapshot().is_none() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut requests = vec![request(None)];
    for m in 0..modules {
        let name = format!("m{m}");
        let matchers = vec![Matcher::Executable { name: "steward-bench-matches-nothing".into() }];
        steward.put_module(ModuleSpec { name: name.clone(), matchers })?;
        requests.push(request(Some(name)));
    }
    let started = Instant::now();
    for r in &requests {
        steward.profile(r.clone()).context("first profile request")?;
    }
    let fitting = started.elapsed();
    let mut times: Vec<Duration> = Vec::with_capacity(rounds * requests.len());
    for _ in 0..rounds {
        for r in &requests {
            let t = Instant::now();
            steward.profile(r.clone())?;
            times.push(t.elapsed());
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "Kept forecasts: {days} days of 1-minute history, {modules} modules, {series} series, {} requests",
        times.len()
    );
    println!(
        "  profile request (reads kept forecasts): p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        at(0.5),
        at(0.95),
        at(1.0)
    );
    println!(
        "  fitting all {series} series (first requests; one refit round): {:.2} s, {:.0} ms per series",
        fitting.as_secs_f64(),
        fitting.as_secs_f64() * 1e3 / series as f64
    );
    println!(
        "  refits every {} min of new history: {:.3} % of one core on average",
        REFIT_EVERY.as_secs() / 60,
        100.0 * fitting.as_secs_f64() / REFIT_EVERY.as_secs_f64()
    );
    Ok(())
}

fn request(module_name: Option<String>) -> ProfileRequest {
    let profiling_type = if module_name.is_some() { ProfilingType::Module } else { ProfilingType::System };
    ProfileRequest { id: None, profiling_type, module_name, horizon_minutes: None }
}

/// `days` of one-minute history ending now for the system's and each module's CPU and memory,
/// rolled up as the service would have; returns how many series.
fn write_history(db_path: &std::path::Path, now: i64, days: usize, modules: usize) -> Result<usize> {
    let mut names = vec![("cpu.total".to_string(), 1.0), ("mem.used".to_string(), 1e8)];
    for m in 0..modules {
        names.push((format!("module.m{m}.cpu"), 1.0));
        names.push((format!("module.m{m}.rss"), 1e7));
    }
    let families = [Family::Diurnal, Family::BurstyBatch, Family::StepChanges];
    let traces: Vec<Vec<f64>> =
        (0..names.len()).map(|i| families[i % families.len()].generate(1_000 + i as u64, days)).collect();
    let minutes = days * 1440;
    let mut store = Store::open(db_path)?;
    for chunk in (0..minutes).collect::<Vec<_>>().chunks(1440) {
        let batch: Vec<(i64, Vec<SeriesValue>)> = chunk
            .iter()
            .map(|&k| {
                let ts = now - (minutes - k) as i64 * MINUTE_MS + 30_000;
                let values = names
                    .iter()
                    .zip(&traces)
                    .map(|((series, scale), y)| SeriesValue { series: series.clone(), value: y[k] * scale })
                    .collect();
                (ts, values)
            })
            .collect();
        store.insert_batch(batch.iter().map(|(t, v)| (*t, v.as_slice())))?;
    }
    let keep = RetentionPolicy { minute_ms: (days as i64 + 1) * DAY_MS, ..RetentionPolicy::default() };
    store.maintain(now, &keep)?;
    Ok(names.len())
}
