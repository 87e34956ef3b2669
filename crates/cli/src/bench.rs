//! `stewardctl bench`: Steward's speed, each figure beside a baseline measured in the same run.

mod accel;
mod alloc;
mod degradation;
mod dispatch;
mod energy;
mod energy_monitor;
mod forecast;
mod forecast_keeping;
mod proc_usage;
mod sampler;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// The sampler's CPU and memory at 1 Hz with the process collector on, side by side with
    /// Prometheus node_exporter scraped at 1 Hz.
    Sampler(sampler::SamplerBenchArgs),
    /// The forecaster's slack and exceedance at 30 minutes on generated traces (held-out seeds),
    /// side by side with the VPA-style baseline.
    Forecast(forecast::ForecastBenchArgs),
    /// Scheduling decisions per second on 5,000 nodes × 8 GPUs with 50,000 queued requests, each
    /// committed to SQLite, with and without preemption churn, against Kubernetes' floors.
    Alloc(alloc::AllocBenchArgs),
    /// The distributed executor on loopback agents: no-op dispatch throughput (unbatched,
    /// batched) and round trip, `true` process tasks against Dask distributed, and the makespan
    /// with one of four nodes slowed 10×.
    Dispatch(dispatch::DispatchBenchArgs),
    /// The accelerator mapper: 1,000 tasks onto 500 heterogeneous GPUs — decision time, and
    /// makespan against the lower bound beside round-robin and greedy first-fit.
    Accel(accel::AccelBenchArgs),
    /// Graceful degradation at 2× memory overload, simulated with Steward's detector and engine:
    /// critical goodput, who is shed first, recovery and transitions, beside no degradation and
    /// all-or-nothing shedding.
    Degradation(degradation::DegradationBenchArgs),
    /// The power planner on GPU power–throughput curves from published measurements: energy
    /// saved at ≤ 5 % slowdown beside an oracle, a fixed 70 % cap and race-to-idle.
    Energy(energy::EnergyBenchArgs),
    /// What the energy monitor's collectors add to each sample, beside the whole sampler's cost.
    EnergyMonitor(energy_monitor::EnergyMonitorBenchArgs),
    /// (internal) The measured side of `bench sampler`: runs Steward's sampling service alone.
    #[command(hide = true)]
    SamplerWorker(sampler::WorkerArgs),
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Sampler(args) => sampler::run(args),
        BenchCommand::Alloc(args) => alloc::run(args),
        BenchCommand::Accel(args) => accel::run(args),
        BenchCommand::Dispatch(args) => dispatch::run(args),
        BenchCommand::SamplerWorker(args) => sampler::worker(args),
        BenchCommand::Forecast(args) => forecast::run(args),
        BenchCommand::Degradation(args) => degradation::run(args),
        BenchCommand::Energy(args) => energy::run(args),
        BenchCommand::EnergyMonitor(args) => energy_monitor::run(args),
    }
}
