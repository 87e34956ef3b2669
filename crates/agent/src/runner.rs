//! Runs one process task: environment, working directory, GPUs, checkpoint directory, limits,
//! timeout and cancellation; its output becomes the task's log.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use steward_proto::agent::{TaskSpec, TaskState};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::ending;
use crate::limits::{self, Mechanism, Placement};
use crate::tasks::{Task, Tasks, now_ms};

/// How long a cancelled or timed-out task gets between SIGTERM and SIGKILL.
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(2);

pub(crate) async fn run(tasks: Arc<Tasks>, task: Arc<Task>) {
    let spec = &task.spec;
    let placement = (!limits::is_empty(spec.limits.as_ref().unwrap_or(&Default::default())))
        .then(|| tasks.cgroups.place(&spec.task_id, spec.limits.as_ref().unwrap_or(&Default::default())));
    let checkpoint = checkpoint_dir(&tasks, spec);
    let failed = |error| Outcome { state: TaskState::Failed, exit_code: None, error };
    let outcome = match ending::working_dir_problem(&spec.working_dir) {
        Some(problem) => failed(problem),
        None => match spawn(&tasks, &task, &checkpoint, placement.as_ref()).await {
            Ok(child) => supervise(&task, child, placement.as_ref(), &checkpoint).await,
            Err(e) => failed(format!("cannot start {:?}: {e}", spec.program)),
        },
    };
    if let Some(p) = placement {
        tasks.cgroups.release(p, spec.limits.as_ref().unwrap_or(&Default::default()));
    }
    task.update(|s| {
        s.state = outcome.state as i32;
        s.has_exit_code = outcome.exit_code.is_some();
        s.exit_code = outcome.exit_code.unwrap_or(0);
        s.error = outcome.error;
        s.ended_ms = now_ms();
        if outcome.state == TaskState::Succeeded {
            s.progress = 1.0;
        }
    });
    tasks.finished(&spec.task_id);
}

struct Outcome {
    state: TaskState,
    exit_code: Option<i32>,
    error: String,
}

fn checkpoint_dir(tasks: &Tasks, spec: &TaskSpec) -> std::path::PathBuf {
    if !spec.checkpoint_dir.is_empty() {
        return spec.checkpoint_dir.clone().into();
    }
    let key = if spec.checkpoint_key.is_empty() { &spec.task_id } else { &spec.checkpoint_key };
    let safe: String =
        key.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    tasks.state_dir.join("checkpoints").join(safe)
}

/// Starts the process inside its limits: under cgroup v1 from the spawner thread (posix_spawn),
/// otherwise joining or setting rlimits in the child before exec (fork).
async fn spawn(
    tasks: &Tasks,
    task: &Arc<Task>,
    checkpoint: &std::path::Path,
    placement: Option<&Placement>,
) -> std::io::Result<tokio::process::Child> {
    std::fs::create_dir_all(checkpoint)?;
    if let Some(Placement::Cgroups(Mechanism::CgroupV1, dirs)) = placement {
        let (task, checkpoint, rt) = (task.clone(), checkpoint.to_owned(), tokio::runtime::Handle::current());
        let spawned = tasks.spawner.run_in(dirs.clone(), move || {
            let _rt = rt.enter();
            command(&task.spec, &checkpoint, None).spawn()
        });
        if let Some(child) = spawned.await {
            return child;
        }
    }
    command(&task.spec, checkpoint, placement).spawn()
}

/// The task's command; with `pre_exec_limits`, its limits applied in the child before exec.
fn command(
    spec: &TaskSpec,
    checkpoint: &std::path::Path,
    pre_exec_limits: Option<&Placement>,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(&spec.args)
        .envs(&spec.env)
        .env("STEWARD_CHECKPOINT_DIR", checkpoint)
        .env("STEWARD_TASK_ID", &spec.task_id)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so cancelling reaches everything it started.
        .process_group(0);
    if !spec.gpus.is_empty() {
        cmd.env("CUDA_VISIBLE_DEVICES", spec.gpus.iter().map(u32::to_string).collect::<Vec<_>>().join(","));
    } else if spec.hide_gpus {
        cmd.env("CUDA_VISIBLE_DEVICES", "");
    }
    if !spec.working_dir.is_empty() {
        cmd.current_dir(&spec.working_dir);
    }
    // Only when there are limits to apply: a pre_exec hook makes std fork+exec instead of
    // posix_spawn (vfork-like), which costs more from a multi-threaded agent.
    match (pre_exec_limits, spec.limits) {
        (Some(Placement::Rlimit), Some(l)) if limits::has_rlimits(&l) => {
            // SAFETY: apply_rlimits only calls setrlimit, which is async-signal-safe.
            unsafe {
                cmd.pre_exec(move || limits::apply_rlimits(&l));
            }
        }
        (Some(p @ Placement::Cgroups(..)), _) => {
            let files = p.procs_files();
            // SAFETY: join_self only calls open, write and close.
            unsafe {
                cmd.pre_exec(move || {
                    limits::join_self(&files);
                    Ok(())
                });
            }
        }
        _ => {}
    }
    cmd
}

async fn supervise(
    task: &Arc<Task>,
    mut child: tokio::process::Child,
    placement: Option<&Placement>,
    checkpoint: &std::path::Path,
) -> Outcome {
    let pid = child.id().unwrap_or(0);
    let mut mechanism = placement.map(|p| p.mechanism().as_str()).unwrap_or("none").to_string();
    if let Some(p) = placement
        && let Err(e) = p.join(pid)
    {
        // Say so rather than claim limits that are not applied.
        mechanism = format!("none ({} failed: {e})", p.mechanism().as_str());
    }
    task.update(|s| {
        s.state = TaskState::Running as i32;
        s.pid = pid;
        s.limits_mechanism = mechanism;
        s.checkpoint_dir = checkpoint.display().to_string();
        s.started_ms = now_ms();
    });
    let readers = [
        child.stdout.take().map(|o| tokio::spawn(read_lines(task.clone(), false, o))),
        child.stderr.take().map(|e| tokio::spawn(read_lines(task.clone(), true, e))),
    ];
    let timeout = match task.spec.timeout_ms {
        0 => Duration::MAX,
        ms => Duration::from_millis(ms),
    };
    let (state, exit) = tokio::select! {
        status = child.wait() => {
            let status = status.ok();
            let ok = status.is_some_and(|s| s.success());
            (if ok { TaskState::Succeeded } else { TaskState::Failed }, status)
        }
        _ = sleep_or_forever(timeout) => {
            (TaskState::TimedOut, terminate(&mut child, pid).await)
        }
        _ = task.cancel.notified() => {
            (TaskState::Cancelled, terminate(&mut child, pid).await)
        }
    };
    if state == TaskState::Cancelled {
        // Its caller gave up on it: the rest of its output waits for nobody.
        task.abandon_output();
    }
    collect_the_rest(task, readers).await;
    let (code, signal) = (exit.and_then(|s| s.code()), exit.and_then(|s| s.signal()));
    let exit_cause = ending::exit_cause(code, signal);
    let memory_limit = task.spec.limits.map_or(0, |l| l.memory_bytes);
    let oom = placement
        .and_then(Placement::memory_dir)
        .is_some_and(|dir| ending::oom_kills(dir, signal == Some(libc::SIGKILL)) > 0);
    let error = match state {
        TaskState::Failed if oom && memory_limit > 0 => ending::oom_cause(memory_limit, &exit_cause),
        TaskState::Failed => exit_cause,
        TaskState::TimedOut => ending::timeout_cause(task.spec.timeout_ms),
        TaskState::Cancelled => "cancelled".into(),
        _ => String::new(),
    };
    Outcome { state, exit_code: code, error }
}

/// Waits for the output still in the pipes. Output waiting for a reader (the control center)
/// is waited for until read or the task is cancelled; a pipe that stays open and quiet
/// (a grandchild holds it) for a second is not.
async fn collect_the_rest(task: &Task, readers: [Option<tokio::task::JoinHandle<()>>; 2]) {
    for mut r in readers.into_iter().flatten() {
        loop {
            tokio::select! {
                _ = &mut r => break,
                _ = task.cancel.notified() => {
                    task.abandon_output();
                    break;
                }
                _ = tokio::time::sleep(Duration::from_secs(1)) => {
                    if !task.waits_for_reader() {
                        break;
                    }
                }
            }
        }
    }
}

async fn sleep_or_forever(d: Duration) {
    if d == Duration::MAX { std::future::pending::<()>().await } else { tokio::time::sleep(d).await }
}

/// SIGTERM to the task's process group, SIGKILL after a grace period.
async fn terminate(child: &mut tokio::process::Child, pid: u32) -> Option<std::process::ExitStatus> {
    let group = -(pid as i32);
    // SAFETY: kill with a negative pid signals the group we created at spawn.
    unsafe { libc::kill(group, libc::SIGTERM) };
    match tokio::time::timeout(KILL_GRACE, child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            // SAFETY: as above; the group outlived its grace period.
            unsafe { libc::kill(group, libc::SIGKILL) };
            child.wait().await.ok()
        }
    }
}

/// A line longer than this travels in pieces: the agent never holds a whole huge line.
pub(crate) const MAX_PIECE: usize = 64 << 10;

/// Reads a pipe to its end as bytes, whatever they are: text that is not UTF-8 stays in the
/// log (a reader that stopped at it would leave the task to die of SIGPIPE).
async fn read_lines(task: Arc<Task>, stderr: bool, pipe: impl AsyncRead + Unpin) {
    let mut reader = BufReader::with_capacity(MAX_PIECE, pipe);
    let mut line = Vec::new();
    loop {
        task.room().await;
        let buf = match reader.fill_buf().await {
            Ok([]) => break,
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let window = &buf[..buf.len().min(MAX_PIECE - line.len())];
        let (used, ends_line) = match window.iter().position(|b| *b == b'\n') {
            Some(i) => {
                line.extend_from_slice(&window[..i]);
                (i + 1, true)
            }
            None => {
                line.extend_from_slice(window);
                (window.len(), false)
            }
        };
        reader.consume(used);
        if ends_line || line.len() >= MAX_PIECE {
            task.push_line(stderr, std::mem::take(&mut line), !ends_line);
        }
    }
    if !line.is_empty() {
        task.push_line(stderr, line, false);
    }
}
