//! The agent's tasks: started by id (idempotent), watched by anyone, kept after they end so a
//! control center that restarts can re-attach and read how they finished.
//!
//! Each task carries its starter's `owner` id (`ListTasks` shows it), so a control center can
//! tell its own orphans from other callers' tasks. Tasks outlive a control center's restart, not
//! the agent's: stopping the agent cancels those still running and waits for them
//! (`Tasks::stop_all`).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use steward_proto::agent::{LogLine, TaskKind, TaskSpec, TaskState, TaskStatus};
use tokio::sync::{Notify, watch};

use crate::limits::Cgroups;

/// Log lines (or pieces of long lines) kept per task, the newest, and the bytes they may hold.
/// Lines no caller has read yet are never dropped: the task's output waits in its pipe until a
/// watcher (or a start's answer) takes them, as it would with no agent in between.
const LOG_TAIL: usize = 2000;
const LOG_TAIL_BYTES: usize = 4 << 20;
/// Finished tasks kept for late watchers; the oldest are forgotten beyond this.
const MAX_FINISHED: usize = 20_000;

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub fn is_terminal(state: i32) -> bool {
    !matches!(TaskState::try_from(state), Ok(TaskState::Pending | TaskState::Running))
}

pub struct Tasks {
    inner: Mutex<Inner>,
    pub(crate) state_dir: PathBuf,
    pub(crate) cgroups: Cgroups,
    pub(crate) spawner: crate::spawner::Spawner,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Arc<Task>>,
    finished: VecDeque<String>,
}

pub struct Task {
    pub spec: TaskSpec,
    data: Mutex<TaskData>,
    /// Bumped on every change; watchers wait on it.
    changed: watch::Sender<u64>,
    pub(crate) cancel: Notify,
    /// Lines were read by a caller (room for more output).
    drained: Notify,
}

struct TaskData {
    status: TaskStatus,
    log: VecDeque<LogLine>,
    log_bytes: usize,
    next_line: u64,
    /// Lines numbered below this were handed to a caller; only those may be dropped.
    read_up_to: u64,
    /// Nobody waits for the rest of the output any more (the task was cancelled after its
    /// process ended): lines are dropped as before, oldest first.
    abandoned: bool,
}

impl Tasks {
    pub fn new(state_dir: PathBuf, cgroups: Cgroups) -> Arc<Tasks> {
        let spawner = match cgroups.mechanism() {
            crate::limits::Mechanism::CgroupV1 => crate::spawner::Spawner::start(),
            _ => crate::spawner::Spawner::none(),
        };
        Arc::new(Tasks { inner: Mutex::default(), state_dir, cgroups, spawner, next_id: AtomicU64::new(0) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts the task, or returns the one already known by its id (a retried call, or a
    /// control center re-attaching after a restart, never starts it twice).
    pub fn run(self: &Arc<Self>, mut spec: TaskSpec) -> Arc<Task> {
        if spec.task_id.is_empty() {
            spec.task_id = format!("t-{}-{}", now_ms(), self.next_id.fetch_add(1, Ordering::Relaxed));
        }
        let noop = spec.kind == TaskKind::Noop as i32;
        let task = {
            let mut inner = self.lock();
            if let Some(t) = inner.map.get(&spec.task_id) {
                return t.clone();
            }
            let now = now_ms();
            let status = TaskStatus {
                task_id: spec.task_id.clone(),
                state: if noop { TaskState::Succeeded } else { TaskState::Pending } as i32,
                progress: if noop { 1.0 } else { -1.0 },
                has_exit_code: noop,
                started_ms: now,
                ended_ms: if noop { now } else { 0 },
                limits_mechanism: "none".into(),
                owner: spec.owner.clone(),
                ..Default::default()
            };
            let task = Arc::new(Task {
                spec,
                data: Mutex::new(TaskData {
                    status,
                    log: VecDeque::new(),
                    log_bytes: 0,
                    next_line: 0,
                    read_up_to: 0,
                    abandoned: false,
                }),
                changed: watch::Sender::new(0),
                cancel: Notify::new(),
                drained: Notify::new(),
            });
            inner.map.insert(task.spec.task_id.clone(), task.clone());
            if noop {
                Self::remember_finished(&mut inner, task.spec.task_id.clone());
            }
            task
        };
        if !noop {
            tokio::spawn(crate::runner::run(self.clone(), task.clone()));
        }
        task
    }

    pub fn get(&self, id: &str) -> Option<Arc<Task>> {
        self.lock().map.get(id).cloned()
    }

    pub fn list(&self) -> Vec<TaskStatus> {
        let mut all: Vec<TaskStatus> = self.lock().map.values().map(|t| t.status()).collect();
        all.sort_by(|a, b| a.started_ms.cmp(&b.started_ms).then_with(|| a.task_id.cmp(&b.task_id)));
        all
    }

    /// Cancels every task still running and waits, at most `within`, for them to end: the
    /// agent's tasks stop with it (a control center re-attaches across its own restart, not
    /// across the agent's, whose task registry is gone).
    pub async fn stop_all(&self, within: std::time::Duration) {
        let running: Vec<Arc<Task>> =
            self.lock().map.values().filter(|t| !is_terminal(t.status().state)).cloned().collect();
        running.iter().for_each(|t| t.cancel.notify_one());
        let deadline = tokio::time::Instant::now() + within;
        for t in running {
            if tokio::time::timeout_at(deadline, t.wait()).await.is_err() {
                return tracing::warn!("tasks still running when the agent stopped");
            }
        }
    }

    pub(crate) fn finished(&self, id: &str) {
        Self::remember_finished(&mut self.lock(), id.to_string());
    }

    fn remember_finished(inner: &mut Inner, id: String) {
        inner.finished.push_back(id);
        while inner.finished.len() > MAX_FINISHED {
            if let Some(old) = inner.finished.pop_front() {
                inner.map.remove(&old);
            }
        }
    }
}

impl TaskData {
    fn over(&self) -> bool {
        self.log.len() > LOG_TAIL || self.log_bytes > LOG_TAIL_BYTES
    }

    /// Over its limits with nothing it may drop.
    fn full(&self) -> bool {
        !self.abandoned && self.over()
    }

    /// Drops the oldest lines while over the limits, only read ones unless abandoned.
    fn trim(&mut self) {
        while self.over() && self.log.front().is_some_and(|l| self.abandoned || l.number < self.read_up_to) {
            let gone = self.log.pop_front().map_or(0, |l| l.data.len());
            self.log_bytes -= gone;
        }
    }
}

/// The fraction of a `STEWARD_PROGRESS <fraction>` line.
fn progress(line: &[u8]) -> Option<f64> {
    let value = std::str::from_utf8(line.strip_prefix(b"STEWARD_PROGRESS ")?).ok()?;
    value.trim().parse::<f64>().ok().filter(|p| p.is_finite()).map(|p| p.clamp(0.0, 1.0))
}

impl Task {
    fn data(&self) -> std::sync::MutexGuard<'_, TaskData> {
        self.data.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn status(&self) -> TaskStatus {
        self.data().status.clone()
    }

    /// The status and the log lines numbered `from_line` and later that are still kept; they
    /// count as read, making room for more output.
    pub fn since(&self, from_line: u64) -> (TaskStatus, Vec<LogLine>, u64) {
        let out = {
            let mut d = self.data();
            let lines = d.log.iter().filter(|l| l.number >= from_line).cloned().collect();
            d.read_up_to = d.read_up_to.max(d.next_line);
            d.trim();
            (d.status.clone(), lines, d.next_line)
        };
        self.drained.notify_waiters();
        out
    }

    /// Waits until the log has room for more output: its oldest lines were read, or nobody
    /// waits for them any more.
    pub(crate) async fn room(&self) {
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if !self.data().full() {
                return;
            }
            drained.await;
        }
    }

    /// Whether output waits for a reader (the log is full of lines nobody read).
    pub(crate) fn waits_for_reader(&self) -> bool {
        self.data().full()
    }

    /// Nobody will read the rest: the log drops its oldest lines from now on.
    pub(crate) fn abandon_output(&self) {
        {
            let mut d = self.data();
            d.abandoned = true;
            d.trim();
        }
        self.drained.notify_waiters();
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut TaskStatus)) {
        f(&mut self.data().status);
        self.changed.send_modify(|v| *v += 1);
    }

    /// Appends a log line (a piece of one when `partial`); `STEWARD_PROGRESS <fraction>` lines
    /// also set the progress.
    pub(crate) fn push_line(&self, stderr: bool, data: Vec<u8>, partial: bool) {
        {
            let mut d = self.data();
            if let Some(p) = progress(&data) {
                d.status.progress = p;
            }
            let number = d.next_line;
            d.next_line += 1;
            d.log_bytes += data.len();
            d.log.push_back(LogLine { number, stderr, data, partial });
            d.trim();
        }
        self.changed.send_modify(|v| *v += 1);
    }

    /// Waits until the task has ended and returns its final status.
    pub async fn wait(&self) -> TaskStatus {
        let mut rx = self.subscribe();
        loop {
            let status = self.status();
            if is_terminal(status.state) {
                return status;
            }
            if rx.changed().await.is_err() {
                return self.status();
            }
        }
    }
}
