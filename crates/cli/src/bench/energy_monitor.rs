//! What the energy monitor adds to the sampler: the power-sensor and energy collectors' CPU time
//! per sample, beside the whole sampler's (measured in the same run, same machine, 1 Hz ticks).
//!
//! Both run in this process on one thread, so wall time is CPU time; the sampler is ticked at
//! 1-second steps of a simulated clock so every cheap collector runs every tick, as at 1 Hz.

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use steward_telemetry::energy::EnergyCollector;
use steward_telemetry::power_sensors::PowerSensorCollector;
use steward_telemetry::{Collector, Sampler, SamplerConfig};

#[derive(Args)]
pub struct EnergyMonitorBenchArgs {
    /// Samples to time.
    #[arg(long, default_value_t = 300)]
    samples: u32,
}

pub fn run(args: EnergyMonitorBenchArgs) -> Result<()> {
    let config = SamplerConfig::from_env();
    let mut sampler = Sampler::new(&config);
    let mut sensors = PowerSensorCollector::new(&config.root);
    let mut energy = EnergyCollector::new(&config.root, config.cpu_tdp_w);
    let (mut whole, mut added) = (Duration::ZERO, Duration::ZERO);
    let mut sources = 0;
    for i in 0..=args.samples {
        let now = i64::from(i) * 1_000;
        let t = Instant::now();
        let mut snap = sampler.tick(now);
        let whole_tick = t.elapsed();
        let t = Instant::now();
        sensors.collect(now, &mut snap);
        energy.collect(now, &mut snap);
        let added_tick = t.elapsed();
        // The first tick opens files and libraries once: not the steady state.
        if i > 0 {
            whole += whole_tick;
            added += added_tick;
        }
        sources = snap.energy.value().map_or(0, |e| e.sources.len());
    }
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(args.samples);
    let (whole_ms, added_ms) = (per(whole), per(added));
    println!("energy monitor benchmark: {} samples, {sources} energy sources on this machine", args.samples);
    println!("  whole sampler (all collectors, energy included): {whole_ms:.4} ms per sample");
    println!("  power sensors + energy collectors alone:        {added_ms:.4} ms per sample");
    println!("  at 1 Hz the monitor adds {:.4} % of a core", added_ms / 1000.0 * 100.0);
    println!("  ratio monitor/whole sampler: {:.3}×", added_ms / whole_ms);
    println!("  goal: ≤ 0.02 % of a core");
    Ok(())
}
