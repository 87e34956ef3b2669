//! `stewardctl bench dispatch`: the distributed executor on loopback, persistence on, against
//! baselines measured in the same run.
//!
//! (a) the dispatch machinery alone, with no-op tasks the agent acknowledges without starting a
//!     process: tasks per second submitted asynchronously (unbatched: one RunTask per task;
//!     batched: one RunTasks per node and pass) and the synchronous round trip (submit one,
//!     wait for its result). A task is one execution of one partition, written to SQLite before
//!     it is sent and again when it ends.
//! (b) process tasks running `true`, placed through the allocation engine (one core each),
//!     against Dask distributed running the same command through `subprocess` on as many
//!     worker processes × threads as the agents have slots.
//! (c) the makespan of a partitioned job with one of four nodes slowed 10×, against the same
//!     job on the three healthy nodes alone.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use steward_api::{AdapterProbe, AddNode, ApiConfig, DispatchSettings, Steward};
use steward_core::dispatch::{ExecStatus, InputSpec, TaskKind, TaskSpec};

use crate::progress::Phases;

#[derive(Args)]
pub struct DispatchBenchArgs {
    /// No-op tasks per asynchronous run.
    #[arg(long, default_value_t = 20_000)]
    noop_tasks: usize,
    /// Synchronous round trips.
    #[arg(long, default_value_t = 2_000)]
    round_trips: usize,
    /// `true` process tasks (Steward and Dask each).
    #[arg(long, default_value_t = 2_000)]
    process_tasks: usize,
    /// Python with `dask[distributed]` installed (e.g. a venv: python3 -m venv target/bench-venv
    /// && target/bench-venv/bin/pip install "dask[distributed]").
    #[arg(long, default_value = "target/bench-venv/bin/python")]
    python: PathBuf,
    /// Items of the makespan job (20 ms of work each on a healthy node).
    #[arg(long, default_value_t = 1_200)]
    makespan_items: u64,
    /// Loopback agents to dispatch to.
    #[arg(long, default_value_t = 4)]
    nodes: usize,
}

const TOKEN: &str = "bench-token-0123456789abcdef0123";

struct Agent {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `stewardd` next to this executable, plain text on a free loopback port.
fn agent(slowdown: u32) -> Result<Agent> {
    let dir = tempfile::tempdir()?;
    let exe = std::env::current_exe()?.parent().context("exe dir")?.join("stewardd");
    let mut cmd = Command::new(&exe);
    cmd.args(["--listen", "127.0.0.1:0", "--no-tls", "--no-adapters", "--token", TOKEN, "--state-dir"])
        .arg(dir.path())
        .env("BENCH_SLOWDOWN", slowdown.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // The agents die with the bench even when it is killed outright (no destructor runs then).
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(())
            }
        });
    }
    let mut child = cmd.spawn().with_context(|| format!("starting {}", exe.display()))?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let address = loop {
        let Some(line) = lines.next() else { bail!("stewardd exited before printing its address") };
        if let Some(a) = line?.strip_prefix("stewardd listening on ") {
            break a.trim().to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    Ok(Agent { child, address, _dir: dir })
}

/// A control center on a fresh database with `agents` added through the cluster manager.
async fn control_center(dir: &Path, name: &str, agents: &[&Agent], max_batch: usize) -> Result<Steward> {
    let mut config = ApiConfig {
        db_path: dir.join(format!("{name}.db")),
        adapter_probe: AdapterProbe::Skip,
        ..ApiConfig::default()
    };
    config.sampler.gpus = false;
    config.dispatch = DispatchSettings { max_batch, ..DispatchSettings::default() };
    let s = Steward::start(config)?;
    for a in agents {
        s.add_node(AddNode { address: a.address.clone(), token: TOKEN.into(), fingerprint: None }).await?;
    }
    // Work goes to a node once its first snapshot is in (its GPUs); a fresh agent's first
    // comes a sampling interval after it started. Not part of what is measured.
    let deadline = Instant::now() + Duration::from_secs(20);
    let ready =
        |n: &steward_api::NodeView| n.id != "local" && n.state == steward_api::NodeHealth::Up && n.latest.is_some();
    while s.nodes().iter().filter(|n| ready(n)).count() < agents.len() {
        if Instant::now() > deadline {
            bail!("nodes did not come up");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(s)
}

fn noop() -> TaskSpec {
    let mut t = TaskSpec::new(vec![], InputSpec::Shards { count: 1 });
    t.kind = TaskKind::Noop;
    t.reuse = false;
    t
}

const SLICE: usize = 5_000;

/// Submits `tasks` in chunks (one transaction each) and waits for all; tasks per second.
async fn throughput(s: &Steward, tasks: Vec<TaskSpec>, phases: &Phases) -> Result<f64> {
    let n = tasks.len();
    let start = Instant::now();
    let mut ids = Vec::with_capacity(n);
    // Submission rate per slice of 5,000 tasks (the executor admits a chunk per pass, so this
    // is its pace): per-task cost must not grow with the count.
    let mut slices = Vec::new();
    let mut last = start;
    let mut it = tasks.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<TaskSpec> = it.by_ref().take(500).collect();
        ids.extend(s.distribute_many(chunk).await?.into_iter().map(|r| r.execution_id));
        if ids.len() % SLICE == 0 && n > SLICE {
            let now = Instant::now();
            slices.push(format!("{:.0}", SLICE as f64 / (now - last).as_secs_f64()));
            last = now;
        }
    }
    // Status only, as a client polling its tasks would: a summary is built for failures alone.
    for id in &ids {
        if s.wait_status(id, Duration::from_secs(600)).await? != ExecStatus::Succeeded {
            let e = s.execution(id)?;
            bail!("execution {id} ended {:?}: {:?}", e.status, e.error);
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    if !slices.is_empty() {
        phases.say(format!("  ({n} tasks, submitted per {SLICE}: {} tasks/s)", slices.join(", ")));
    }
    Ok(rate)
}

async fn round_trips(s: &Steward, n: usize) -> Result<(f64, f64)> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let id = s.distribute(noop()).await?.execution_id;
        let status = s.wait_status(&id, Duration::from_secs(10)).await?;
        if status != ExecStatus::Succeeded {
            bail!("round trip ended {status:?}");
        }
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[n / 2], times[n * 99 / 100]))
}

const DASK: &str = r#"
import subprocess, sys, time
from dask.distributed import Client, LocalCluster

def run(i):
    return subprocess.run(["true"]).returncode

if __name__ == "__main__":
    n, workers, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    with LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True, dashboard_address=None) as cluster, Client(cluster) as c:
        c.gather(c.map(run, range(50), pure=False))
        t = time.perf_counter()
        out = c.gather(c.map(run, range(n), pure=False))
        dt = time.perf_counter() - t
        assert all(r == 0 for r in out)
        print(n / dt)
"#;

fn dask(python: &Path, n: usize, workers: usize, threads: usize) -> Result<f64> {
    let out = Command::new(python)
        .args(["-c", DASK, &n.to_string(), &workers.to_string(), &threads.to_string()])
        .stderr(Stdio::null())
        .output()
        .with_context(|| format!("running {} (install dask[distributed] there)", python.display()))?;
    if !out.status.success() {
        bail!("dask run failed: {}", String::from_utf8_lossy(&out.stdout));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

/// A partitioned job whose items take 20 ms × BENCH_SLOWDOWN each; its makespan.
async fn makespan(s: &Steward, items: u64) -> Result<Duration> {
    let script =
        "n=$(( ({end} - {start}) * 20 * ${BENCH_SLOWDOWN:-1} )); sleep $(printf '%d.%03d' $((n / 1000)) $((n % 1000)))";
    let mut t = TaskSpec::new(vec!["sh".into(), "-c".into(), script.into()], InputSpec::Range { start: 0, end: items });
    t.reuse = false;
    let start = Instant::now();
    let id = s.distribute(t).await?.execution_id;
    let e = s.wait_execution(&id, Duration::from_secs(600)).await?;
    if e.status != ExecStatus::Succeeded {
        bail!("makespan job ended {:?}: {:?}", e.status, e.error);
    }
    Ok(start.elapsed())
}

pub fn run(args: DispatchBenchArgs) -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    // Submitted from a task on the runtime's workers, as a server's request handlers do (a
    // `block_on` future runs on a thread of its own, which every answer would have to wake).
    rt.block_on(async { tokio::spawn(async_run(args)).await? })
}

async fn async_run(args: DispatchBenchArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let agents: Vec<Agent> = (0..args.nodes).map(|_| agent(1)).collect::<Result<_>>()?;
    let refs: Vec<&Agent> = agents.iter().collect();
    let phases = Phases::new();
    println!("dispatch benchmark: {} stewardd on loopback (plain text), SQLite persistence on", args.nodes);

    phases.say("\n(a) dispatch machinery, no-op tasks");
    phases.set("(a) no-op tasks, unbatched");
    let unbatched = {
        let s = control_center(dir.path(), "unbatched", &refs, 1).await?;
        throughput(&s, (0..args.noop_tasks).map(|_| noop()).collect(), &phases).await?
    };
    phases.set("(a) no-op tasks, batched, then round trips");
    let s = control_center(dir.path(), "batched", &refs, 256).await?;
    let batched = throughput(&s, (0..args.noop_tasks).map(|_| noop()).collect(), &phases).await?;
    let (p50, p99) = round_trips(&s, args.round_trips).await?;
    phases.say(format!(
        "  async, unbatched:   {unbatched:>9.0} tasks/s   (Ray microbenchmark, 1 client: 8,040/s → {:.2}×)",
        unbatched / 8040.0
    ));
    phases
        .say(format!("  async, batched:     {batched:>9.0} tasks/s   (goal ≥ 20,000/s → {:.2}×)", batched / 20_000.0));
    phases.say(format!(
        "  sync round trip:    p50 {p50:>6.0} µs, p99 {p99:.0} µs   (goal p50 ≤ 250 µs; Ray 981 tasks/s ≈ 1,019 µs → {:.2}×)",
        1019.0 / p50
    ));

    phases.say("\n(b) process tasks running `true`");
    phases.set("(b) process tasks, Steward then Dask");
    let mut t = TaskSpec::new(vec!["true".into()], InputSpec::Shards { count: 1 });
    t.reuse = false;
    let ours = throughput(&s, (0..args.process_tasks).map(|_| t.clone()).collect(), &phases).await?;
    drop(s);
    let slots: usize = std::thread::available_parallelism().map(std::num::NonZero::get).unwrap_or(1);
    phases.say(format!("  Steward:            {ours:>9.0} tasks/s   ({} nodes × {slots} slots)", args.nodes));
    match dask(&args.python, args.process_tasks, args.nodes, slots) {
        Ok(theirs) => phases.say(format!(
            "  Dask distributed:   {theirs:>9.0} tasks/s   ({} workers × {slots} threads) → Steward {:.2}× (goal ≥ 1.5×)",
            args.nodes,
            ours / theirs
        )),
        Err(e) => phases.say(format!("  Dask distributed:   unavailable: {e}")),
    }

    phases.say("\n(c) makespan with one of four nodes slowed 10×");
    phases.set("(c) makespan, three healthy nodes then one slowed");
    let slow = agent(10)?;
    let healthy: Vec<&Agent> = agents.iter().take(3).collect();
    let alone = {
        let s = control_center(dir.path(), "three", &healthy, 256).await?;
        makespan(&s, args.makespan_items).await?
    };
    let mut four = healthy.clone();
    four.push(&slow);
    let slowed = {
        let s = control_center(dir.path(), "four", &four, 256).await?;
        makespan(&s, args.makespan_items).await?
    };
    phases.say(format!(
        "  3 healthy nodes:    {:>7.2} s\n  + 1 slowed 10×:     {:>7.2} s   → {:.2}× (goal ≤ 1.1×)",
        alone.as_secs_f64(),
        slowed.as_secs_f64(),
        slowed.as_secs_f64() / alone.as_secs_f64()
    ));
    Ok(())
}
