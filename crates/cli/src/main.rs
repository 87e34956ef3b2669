//! `stewardctl`: Steward without a desktop.

mod accel;
mod alloc;
mod backend;
mod bench;
mod dataset;
mod degradation;
mod energy;
mod http;
mod node;
mod profile;
mod progress;
mod run;
mod serve;
mod shell;
mod ui_dir;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "stewardctl", version, about = "Steward: a control center for compute resources")]
struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "STEWARD_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Steward UI and JSON API on loopback (the headless front door).
    Serve(serve::ServeArgs),
    /// Print the URL that opens the running Steward in a browser (with its access token).
    Url(serve::UrlArgs),
    /// Print one sample of this machine as JSON.
    Snapshot(serve::SnapshotArgs),
    /// Ask a running Steward for a profile report: bottlenecks, forecasts, suggestions.
    Profile(profile::ProfileArgs),
    /// Ask a running Steward for an allocation (queued when it cannot start now).
    Allocate(alloc::AllocateArgs),
    /// Reserve resources on a node for a future window.
    Reserve(alloc::ReserveArgs),
    /// Running, queued (with the reason) and preempted allocations.
    Queue(alloc::QueueArgs),
    /// Cancel an allocation (or, with --reservation, delete a reservation).
    Cancel(alloc::CancelArgs),
    /// Cluster nodes: add (by address, token and fingerprint), remove, drain, list.
    #[command(subcommand)]
    Node(node::NodeCommand),
    /// Datasets and the nodes holding them, which placement prefers: add, list, remove.
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
    /// Run a command partitioned across the cluster's nodes and print its output.
    Run(run::RunArgs),
    /// Executions, or one execution's progress, nodes, stragglers and report.
    Status(run::StatusArgs),
    /// Energy: power by node and source with provenance (status), the report, and the power
    /// manager: plan a reduction (profiling each GPU), apply it, roll back, read the journal.
    #[command(subcommand)]
    Energy(energy::EnergyCommand),
    /// Measure Steward against baselines measured in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// The cluster engine a config file names (Steward's own or Slurm): check it is reachable.
    #[command(subcommand)]
    Backend(backend::BackendCommand),
    /// Print shell completions (bash, zsh, fish, …) to standard output.
    Completions(shell::CompletionsArgs),
    /// Write man pages for stewardctl and each subcommand.
    Man(shell::ManArgs),
    /// Accelerators: list, register and characterize them; analyze, advise on and map workloads.
    #[command(subcommand)]
    Accel(accel::AccelCommand),
    /// Graceful degradation: status, overrides of a module, the timeline.
    #[command(subcommand)]
    Degradation(degradation::DegradationCommand),
}

// mimalloc: glibc's allocator slowed the long-running process as its heap fragmented (the
// dispatch round trip doubled after 20,000 tasks, most of it in malloc's free-list walks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    // Graphics drivers are loaded in a throw-away child of this binary, never in a server.
    steward_api::serve_adapter_probe_if_asked();
    let cli = Cli::parse();
    steward_api::init_logging(cli.log_json);
    match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Url(args) => serve::url(args),
        Command::Snapshot(args) => serve::snapshot(args),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Backend(cmd) => backend::run(cmd),
        Command::Degradation(cmd) => degradation::run(cmd),
        Command::Run(args) => run::run(args),
        Command::Status(args) => run::status(args),
        Command::Node(cmd) => node::run(cmd),
        Command::Dataset(cmd) => dataset::run(cmd),
        Command::Allocate(args) => alloc::allocate(args),
        Command::Reserve(args) => alloc::reserve(args),
        Command::Queue(args) => alloc::queue(args),
        Command::Cancel(args) => alloc::cancel(args),
        Command::Profile(args) => profile::run(args),
        Command::Energy(cmd) => energy::run(cmd),
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(args),
        Command::Accel(cmd) => accel::run(cmd),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every option and positional of every subcommand, by its path, that has no help text.
    fn without_help(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!("{path} --{}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            without_help(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_option_of_every_subcommand_has_help() {
        let mut missing = Vec::new();
        without_help(&super::Cli::command(), "stewardctl", &mut missing);
        assert!(missing.is_empty(), "options without help text:\n{}", missing.join("\n"));
    }

    #[test]
    fn the_command_tree_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
