//! The gRPC service: each method translates to the task registry, the sampler or the inventory.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use steward_proto::agent::agent_server::Agent;
use steward_proto::agent::*;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::metrics::Latest;
use crate::module_api::LocalModules;
use crate::tasks::{Tasks, is_terminal, now_ms};

type EventStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

pub struct AgentService {
    pub(crate) tasks: Arc<Tasks>,
    pub(crate) inventory: InventoryReply,
    pub(crate) latest: Latest,
    pub(crate) modules: Arc<LocalModules>,
    pub(crate) power: Arc<steward_telemetry::power_control::PowerControl>,
}

#[tonic::async_trait]
impl Agent for AgentService {
    async fn inventory(&self, _: Request<InventoryRequest>) -> Result<Response<InventoryReply>, Status> {
        Ok(Response::new(self.inventory.clone()))
    }

    type StreamMetricsStream = EventStream<MetricsEvent>;

    async fn stream_metrics(
        &self,
        req: Request<StreamMetricsRequest>,
    ) -> Result<Response<Self::StreamMetricsStream>, Status> {
        let req = req.into_inner();
        let heartbeat =
            Duration::from_millis(if req.heartbeat_ms == 0 { 500 } else { req.heartbeat_ms.clamp(50, 60_000) as u64 });
        let every = if req.interval_ms == 0 { 1000 } else { req.interval_ms.clamp(100, 3_600_000) } as i64;
        let mut latest = self.latest.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(heartbeat);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut sent_seq, mut sent_ms, mut seq) = (0u64, 0i64, 0u64);
            loop {
                // A heartbeat on every tick; a snapshot with it when a new one is due.
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = latest.changed() => {}
                }
                let now = now_ms();
                let snapshot_json = match &*latest.borrow_and_update() {
                    Some((s, json)) if *s != sent_seq && now - sent_ms >= every - 50 => {
                        sent_seq = *s;
                        sent_ms = now;
                        json.as_ref().clone()
                    }
                    _ => Vec::new(),
                };
                seq += 1;
                if tx.send(Ok(MetricsEvent { seq, agent_time_ms: now, snapshot_json })).await.is_err() {
                    return; // the caller hung up
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn run_task(&self, req: Request<TaskSpec>) -> Result<Response<RunTaskReply>, Status> {
        let spec = req.into_inner();
        validate(&spec)?;
        let wait = waiting(&spec);
        let task = self.tasks.run(spec);
        Ok(Response::new(reply(&task, wait).await))
    }

    async fn run_tasks(&self, req: Request<RunTasksRequest>) -> Result<Response<RunTasksReply>, Status> {
        let specs = req.into_inner().tasks;
        for s in &specs {
            validate(s)?;
        }
        let started: Vec<_> = specs
            .into_iter()
            .map(|spec| {
                let wait = waiting(&spec);
                (self.tasks.run(spec), wait)
            })
            .collect();
        let mut replies = Vec::with_capacity(started.len());
        for (task, wait) in &started {
            replies.push(reply(task, *wait).await);
        }
        Ok(Response::new(RunTasksReply { replies }))
    }

    type WatchTaskStream = EventStream<TaskEvent>;

    async fn watch_task(&self, req: Request<WatchTaskRequest>) -> Result<Response<Self::WatchTaskStream>, Status> {
        let req = req.into_inner();
        let task = self
            .tasks
            .get(&req.task_id)
            .ok_or_else(|| Status::not_found(format!("no task {:?} on this agent", req.task_id)))?;
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            let mut changes = task.subscribe();
            let mut from = req.from_line;
            loop {
                changes.borrow_and_update();
                let (status, lines, next) = task.since(from);
                from = next;
                let done = is_terminal(status.state);
                if tx.send(Ok(TaskEvent { status: Some(status), lines })).await.is_err() || done {
                    return;
                }
                if changes.changed().await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn cancel_task(&self, req: Request<CancelTaskRequest>) -> Result<Response<TaskStatus>, Status> {
        let id = req.into_inner().task_id;
        let task = self.tasks.get(&id).ok_or_else(|| Status::not_found(format!("no task {id:?} on this agent")))?;
        if !is_terminal(task.status().state) {
            // notify_one keeps a permit if the runner is not waiting yet.
            task.cancel.notify_one();
        }
        Ok(Response::new(task.status()))
    }

    async fn list_tasks(&self, _: Request<ListTasksRequest>) -> Result<Response<ListTasksReply>, Status> {
        Ok(Response::new(ListTasksReply { tasks: self.tasks.list() }))
    }

    type WatchModulesStream = EventStream<ModuleEvent>;

    async fn watch_modules(
        &self,
        _: Request<WatchModulesRequest>,
    ) -> Result<Response<Self::WatchModulesStream>, Status> {
        let (replay, mut changes) = self.modules.subscribe();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            for e in replay {
                if tx.send(Ok(e)).await.is_err() {
                    return;
                }
            }
            loop {
                let e = match changes.recv().await {
                    Ok(e) => Ok(e),
                    // Ending the stream makes the control center subscribe again: a fresh replay
                    // instead of a gap.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        Err(Status::data_loss(format!("{n} module events were missed: watch again")))
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                let end = e.is_err();
                if tx.send(e).await.is_err() || end {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn direct_module(&self, req: Request<DirectModuleRequest>) -> Result<Response<DirectModuleReply>, Status> {
        let req = req.into_inner();
        let order = serde_json::from_slice(&req.order_json)
            .map_err(|e| Status::invalid_argument(format!("order_json is not a usable directive: {e}")))?;
        self.modules.direct(&req.module, order)?;
        Ok(Response::new(DirectModuleReply {}))
    }

    async fn power_settings(&self, _: Request<PowerSettingsRequest>) -> Result<Response<PowerSettingsReply>, Status> {
        crate::power::settings(self.power.clone()).await.map(Response::new)
    }

    async fn set_power(&self, req: Request<SetPowerRequest>) -> Result<Response<SetPowerReply>, Status> {
        crate::power::set(self.power.clone(), req.into_inner()).await.map(Response::new)
    }

    async fn measure_power(&self, req: Request<MeasurePowerRequest>) -> Result<Response<MeasurePowerReply>, Status> {
        crate::power::measure(self.power.clone(), req.into_inner()).await.map(Response::new)
    }
}

/// How long the answer to a start may wait for the task to end: until it ends (`wait`), until
/// a deadline (`wait_ms`), or not at all.
#[derive(Clone, Copy)]
enum Wait {
    No,
    UntilEnd,
    Until(tokio::time::Instant),
}

fn waiting(spec: &TaskSpec) -> Wait {
    match (spec.wait, spec.wait_ms) {
        (true, _) => Wait::UntilEnd,
        (false, 0) => Wait::No,
        (false, ms) => Wait::Until(tokio::time::Instant::now() + Duration::from_millis(ms.into())),
    }
}

/// The task's status after the wait, with its log lines when it ended meanwhile.
async fn reply(task: &crate::tasks::Task, wait: Wait) -> RunTaskReply {
    let status = match wait {
        Wait::No => return RunTaskReply { status: Some(task.status()), lines: Vec::new() },
        Wait::UntilEnd => {
            // Nobody reads while this answer waits: past the log's limits its oldest lines go
            // (the answer's first line number shows how many), rather than the task waiting
            // forever for a reader. Callers that want every line watch instead.
            task.abandon_output();
            task.wait().await
        }
        Wait::Until(deadline) => tokio::time::timeout_at(deadline, task.wait()).await.unwrap_or_else(|_| task.status()),
    };
    let lines = if is_terminal(status.state) { task.since(0).1 } else { Vec::new() };
    RunTaskReply { status: Some(status), lines }
}

fn validate(spec: &TaskSpec) -> Result<(), Status> {
    if spec.kind == TaskKind::Process as i32 && spec.program.is_empty() {
        return Err(Status::invalid_argument("a process task needs a program"));
    }
    if TaskKind::try_from(spec.kind).is_err() {
        return Err(Status::invalid_argument(format!("unknown task kind {}", spec.kind)));
    }
    Ok(())
}
