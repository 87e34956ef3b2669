//! Starting a limited task's process already inside its cgroup v1 hierarchies, without fork.
//!
//! Joining after spawn races with the task's first fork (a shell's command escapes the limits);
//! joining in the child before exec needs a `pre_exec` hook, which makes std fork the whole
//! agent instead of posix_spawn (a third of the throughput of short tasks). Under cgroup v1 a
//! single thread can move, and a child starts in its parent thread's cgroups: so one dedicated
//! thread joins the task's cgroups, spawns, and moves back to their parents (the agent's own
//! `steward` cgroups, which hold no limits).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;
/// A job and the cgroup directories the thread runs it in.
type Queue = mpsc::Sender<(Vec<PathBuf>, Job)>;

pub struct Spawner(Mutex<Option<Queue>>);

impl Spawner {
    /// The thread, or a spawner that declines every job (the caller falls back to `pre_exec`).
    pub fn start() -> Spawner {
        let (tx, rx) = mpsc::channel::<(Vec<PathBuf>, Job)>();
        let thread = std::thread::Builder::new().name("stewardd-spawn".into()).spawn(move || {
            for (dirs, job) in rx {
                // A failed join shows in the caller's own join after spawn.
                for d in &dirs {
                    let _ = move_this_thread(d);
                }
                job();
                // Stuck inside a task's cgroup, this thread would put every later task there:
                // it stops instead, and callers fall back.
                if !dirs.iter().all(|d| d.parent().is_some_and(|home| move_this_thread(home).is_ok())) {
                    tracing::warn!("the spawner thread could not leave a task's cgroup; limited tasks now fork");
                    return;
                }
            }
        });
        Spawner(Mutex::new(thread.ok().map(|_| tx)))
    }

    /// A spawner that declines every job.
    pub fn none() -> Spawner {
        Spawner(Mutex::new(None))
    }

    /// Runs `f` on the spawner thread while it is in the cgroups `dirs`; `None` when the
    /// thread is gone.
    pub async fn run_in<T: Send + 'static>(
        &self,
        dirs: Vec<PathBuf>,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        let sent = self.0.lock().ok()?.as_ref()?.send((dirs, job)).is_ok();
        if !sent {
            return None;
        }
        rx.await.ok()
    }
}

/// Moves the calling thread (not its process) into the cgroup v1 directory `dir`.
fn move_this_thread(dir: &Path) -> std::io::Result<()> {
    // SAFETY: gettid has no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    std::fs::write(dir.join("tasks"), tid.to_string())
}
