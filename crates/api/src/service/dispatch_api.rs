//! Distributed execution and datasets (`crate::dispatch`), as the front doors call them.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use steward_core::dispatch::{Dataset, ExecStatus, ExecutionSummary, TaskSpec};

use super::Steward;
use crate::{
    AllocError, ApiError, DistributeResult, DistributedResponse, MonitorResult, NodeSource, OutputChunk, OutputSource,
};

impl Steward {
    /// Attaches the cluster whose nodes distributed tasks run on.
    pub fn set_dispatch_nodes(&self, source: Arc<dyn NodeSource>) {
        self.shared.dispatch.set_dispatch_nodes(source);
    }

    /// `POST /resources/distributed`: `distribute` a task, or `monitor` an execution.
    pub async fn distributed(&self, body: Value) -> Result<DistributedResponse, AllocError> {
        self.shared.dispatch.distributed(body).await
    }

    /// Splits `task` by the cluster's capacity, plans where each partition goes, and hands it
    /// to the executor (or answers with a finished execution's result when it can be reused).
    pub async fn distribute(&self, task: TaskSpec) -> Result<DistributeResult, AllocError> {
        self.shared.dispatch.distribute(task).await
    }

    /// Many tasks at once, written in one transaction: the way to submit many small tasks.
    pub async fn distribute_many(&self, tasks: Vec<TaskSpec>) -> Result<Vec<DistributeResult>, AllocError> {
        self.shared.dispatch.distribute_many(tasks).await
    }

    /// The monitor answer; asking for a lazy task's result is what makes it run.
    pub fn monitor(&self, execution_id: &str) -> Result<MonitorResult, AllocError> {
        self.shared.dispatch.monitor(execution_id)
    }

    /// Tasks the executor's task graph holds: those in flight and the recently ended (bounded
    /// like the executions kept in memory).
    pub fn tasks_in_memory(&self) -> Result<usize, ApiError> {
        self.shared.dispatch.tasks_in_memory()
    }

    /// Executions, newest first; pending partitions say why they wait when no node takes work.
    pub fn executions(&self) -> Result<Vec<ExecutionSummary>, ApiError> {
        self.shared.dispatch.executions()
    }

    pub fn execution(&self, id: &str) -> Result<ExecutionSummary, ApiError> {
        self.shared.dispatch.execution(id)
    }

    /// The task's result: the winning attempts' output lines, in partition order.
    pub fn execution_output(&self, id: &str) -> Result<Vec<String>, ApiError> {
        self.shared.dispatch.execution_output(id)
    }

    /// Execution `id`'s status: cheaper than [`Steward::execution`] (no summary is built, and
    /// an execution that left memory is not read whole from the store).
    pub fn execution_status(&self, id: &str) -> Result<ExecStatus, ApiError> {
        self.shared.dispatch.execution_status(id)
    }

    /// Waits until execution `id` has ended (or `timeout` passed) and returns its status.
    pub async fn wait_status(&self, id: &str, timeout: Duration) -> Result<ExecStatus, ApiError> {
        self.shared.dispatch.wait_status(id, timeout).await
    }

    /// Waits until execution `id` has ended (or `timeout` passed) and returns it.
    pub async fn wait_execution(&self, id: &str, timeout: Duration) -> Result<ExecutionSummary, ApiError> {
        self.shared.dispatch.wait_execution(id, timeout).await
    }

    /// Cancels an execution: what runs is cancelled on its agents.
    pub fn cancel_execution(&self, id: &str) -> Result<ExecutionSummary, ApiError> {
        self.shared.dispatch.cancel_execution(id)
    }

    /// Registers a dataset with the nodes that hold it (or replaces one of the same name):
    /// written to the store, then used by placement. Answers it as kept.
    pub fn register_dataset(&self, dataset: Dataset) -> Result<Dataset, ApiError> {
        self.shared.dispatch.register_dataset(dataset)
    }

    /// Every registered dataset, by name.
    pub fn datasets(&self) -> Result<Vec<Dataset>, ApiError> {
        self.shared.dispatch.datasets()
    }

    /// Forgets a dataset; tasks already placed keep their nodes.
    pub fn remove_dataset(&self, name: &str) -> Result<(), ApiError> {
        self.shared.dispatch.remove_dataset(name)
    }

    /// Where partition `index` of execution `id` has its whole output. Only a partition with a
    /// result has one (404 otherwise, saying why).
    pub fn partition_output(&self, id: &str, index: u32) -> Result<OutputSource, ApiError> {
        self.shared.dispatch.partition_output(id, index)
    }

    /// Up to `max` bytes (at most 4 MiB) of that output from byte `offset`.
    pub fn partition_output_chunk(&self, id: &str, index: u32, offset: u64, max: u64) -> Result<OutputChunk, ApiError> {
        self.shared.dispatch.partition_output_chunk(id, index, offset, max)
    }
}
