//! Distributed execution: a task (command template + input description) is split into
//! partitions sized by node capacity, placed by free capacity and data locality through the
//! allocation engine, and driven to completion despite failed, lost and slow nodes.
//!
//! Pure like the rest of core: the executor in the api crate feeds events in (with `now_ms`)
//! and carries out the [`Action`]s that come back.

mod balance;
pub mod batch;
mod execution;
mod graph;
mod liveness;
pub mod output;
mod partition;
mod placement;
mod report;
mod reuse;
mod straggler;
mod task;

pub use balance::{Dataset, Locality, NodeLoad, plan, rank};
pub use execution::{
    Accepted, Action, Attempt, AttemptState, DispatchConfig, ExecStatus, Execution, PartState, Partition, StartOrder,
    attempt_id, execution_of, parse_attempt_id,
};
pub use graph::{TaskGraph, TaskGraphState};
pub use liveness::{LivenessChange, NodeLiveness, Reach, ReattachGrace};
pub use output::{AttemptOutput, CutBy, OutputCut, OutputLimits};
pub use partition::{partition_count, split};
pub use placement::{Grant, PartitionAsk, Placer, Unconstrained};
pub use report::{AttemptBrief, ExecutionReport, ExecutionSummary, NodeStatus, PartitionSummary};
pub use reuse::task_hash;
pub use straggler::{StragglerRule, backoff_ms, median};
pub use task::{InputSpec, PartitionInput, TaskKind, TaskSpec};
