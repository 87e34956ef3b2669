//! `stewardctl accel`: the accelerator operations of a running Steward, the same
//! `POST /resources/accelerators` the UI uses: what each node has (`inventory.rs`: list,
//! register, bench) and workloads against those devices (`workload.rs`: analyze, advise, map).

mod inventory;
mod workload;

use anyhow::Result;
use clap::Subcommand;

use crate::http::ListArgs;
use inventory::{BenchArgs, RegisterArgs};
use workload::{AdviseArgs, MapArgs, WorkloadArgs};

#[derive(Subcommand)]
pub enum AccelCommand {
    /// Every node's GPUs (with NVLink/PCIe links), adapters and registered accelerators.
    List(ListArgs),
    /// Register an accelerator (TPU, FPGA, NPU, other GPU), or replace one with its id.
    Register(RegisterArgs),
    /// Run the compute benchmark on this machine's adapters and print measured vs peak.
    Bench(BenchArgs),
    /// A workload's memory and compute needs, and its estimate on every device (or why not).
    Analyze(WorkloadArgs),
    /// How to make a workload faster on a device (the fastest that fits, or --device).
    Advise(AdviseArgs),
    /// Map tasks onto the cluster's accelerators (optimal for small sets), with the reasons.
    Map(MapArgs),
}

pub fn run(cmd: AccelCommand) -> Result<()> {
    match cmd {
        AccelCommand::List(a) => inventory::list(a),
        AccelCommand::Register(a) => inventory::register(a),
        AccelCommand::Bench(a) => inventory::bench(a),
        other => workload::run(other),
    }
}
