//! The agent in-process over real sockets: TLS with a pinned certificate, tokens, tasks.

use std::net::SocketAddr;

use steward_agent::proto::{LogLine, ResourceLimits, TaskKind, TaskSpec, TaskState};
use steward_agent::{AgentClient, AgentConfig, AgentError};

struct Running {
    addr: SocketAddr,
    token: String,
    fingerprint: Option<String>,
    _dir: tempfile::TempDir,
}

async fn start(plain_text: bool) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AgentConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().to_owned());
    config.plain_text = plain_text;
    let bound = steward_agent::bind(config).await.unwrap();
    let r = Running { addr: bound.addr, token: bound.token.clone(), fingerprint: bound.fingerprint.clone(), _dir: dir };
    tokio::spawn(bound.serve(std::future::pending()));
    r
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

fn process(id: &str, script: &str) -> TaskSpec {
    TaskSpec { task_id: id.into(), program: "sh".into(), args: vec!["-c".into(), script.into()], ..Default::default() }
}

#[tokio::test]
async fn tls_agent_runs_tasks_for_the_right_token_and_pin() {
    let a = start(false).await;
    let addr = a.addr.to_string();
    let c = AgentClient::connect(&addr, &a.token, a.fingerprint.as_deref()).await.unwrap();
    let inv = c.inventory().await.unwrap();
    assert!(inv.inventory.logical_cores > 0);
    assert!(["cgroup_v2", "cgroup_v1", "rlimit"].contains(&inv.limits_mechanism.as_str()));

    // A process with env, progress lines and a checkpoint directory; `wait` answers at the end.
    let mut spec = process(
        "p1",
        "echo STEWARD_PROGRESS 0.5; echo \"x=$X\"; echo done > \"$STEWARD_CHECKPOINT_DIR/ck\"; echo err >&2",
    );
    spec.env.insert("X".into(), "42".into());
    spec.checkpoint_key = "job-7".into();
    spec.wait = true;
    let done = c.run_task(spec.clone()).await.unwrap();
    assert_eq!(done.state, TaskState::Succeeded as i32, "{done:?}");
    assert_eq!(done.progress, 1.0);
    assert!(std::path::Path::new(&done.checkpoint_dir).join("ck").exists());
    assert!(done.checkpoint_dir.ends_with("job-7"));
    // Same id again: the same task, not a second run.
    let again = c.run_task(spec).await.unwrap();
    assert_eq!(again.started_ms, done.started_ms);

    let mut watch = c.watch_task("p1", 0).await.unwrap();
    let ev = watch.message().await.unwrap().unwrap();
    let texts: Vec<_> = ev.lines.iter().map(|l| (l.stderr, text(&l.data))).collect();
    assert!(texts.contains(&(false, "x=42".into())) && texts.contains(&(true, "err".into())), "{texts:?}");

    // Cancel and timeout end the process group.
    c.run_task(process("sleepy", "sleep 30")).await.unwrap();
    let mut w = c.watch_task("sleepy", 0).await.unwrap();
    while let Some(ev) = w.message().await.unwrap() {
        if ev.status.unwrap().state == TaskState::Running as i32 {
            break;
        }
    }
    c.cancel_task("sleepy").await.unwrap();
    let mut last = None;
    while let Some(ev) = w.message().await.unwrap() {
        last = ev.status;
    }
    assert_eq!(last.unwrap().state, TaskState::Cancelled as i32);
    let mut t = process("late", "sleep 30");
    t.timeout_ms = 200;
    t.wait = true;
    assert_eq!(c.run_task(t).await.unwrap().state, TaskState::TimedOut as i32);

    // No-op tasks: acknowledged without a process, many per round trip.
    let noops: Vec<TaskSpec> = (0..100)
        .map(|i| TaskSpec { task_id: format!("n{i}"), kind: TaskKind::Noop as i32, ..Default::default() })
        .collect();
    let st = c.run_tasks(noops).await.unwrap();
    assert!(
        st.iter().map(|r| r.status.as_ref().unwrap()).all(|s| s.state == TaskState::Succeeded as i32 && s.pid == 0)
    );

    // A short task ends within `wait_ms`: the answer carries its end and its lines; a longer
    // one is answered running when the wait is over.
    let mut short = process("short", "echo one; echo two");
    short.wait_ms = 5_000;
    let r = c.start_task(short).await.unwrap();
    assert_eq!(r.status.unwrap().state, TaskState::Succeeded as i32);
    assert_eq!(r.lines.iter().map(|l| text(&l.data)).collect::<Vec<_>>(), ["one", "two"]);
    let mut long = process("long", "echo started; sleep 30");
    long.wait_ms = 100;
    let t0 = std::time::Instant::now();
    let r = c.start_task(long).await.unwrap();
    assert_eq!(r.status.unwrap().state, TaskState::Running as i32);
    assert!(r.lines.is_empty() && t0.elapsed() >= std::time::Duration::from_millis(100));
    c.cancel_task("long").await.unwrap();
    assert!(c.list_tasks().await.unwrap().len() >= 103);

    // Metrics: heartbeats at once, with the first snapshot (the agent has sampled since it
    // started), then snapshots whose CPU has rates within a couple of seconds.
    let mut m = c.stream_metrics(1000, 100).await.unwrap();
    let first = m.message().await.unwrap().unwrap();
    assert!(steward_agent::decode_snapshot(&first).is_some(), "the first message carries the latest snapshot");
    let mut cpu_rated = false;
    for _ in 0..40 {
        let ev = m.message().await.unwrap().unwrap();
        if let Some(s) = steward_agent::decode_snapshot(&ev)
            && s.unwrap().cpu.value().is_some()
        {
            cpu_rated = true;
            break;
        }
    }
    assert!(cpu_rated);
}

/// An agent that stops (SIGTERM, systemctl stop: its shutdown future) stops its tasks' processes
/// first, instead of leaving them running with nobody to watch or cancel them.
#[tokio::test]
async fn an_agent_that_stops_stops_its_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AgentConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().to_owned());
    config.plain_text = true;
    let bound = steward_agent::bind(config).await.unwrap();
    let (addr, token) = (bound.addr.to_string(), bound.token.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(bound.serve(async {
        let _ = stopped.await;
    }));
    let c = AgentClient::connect(&addr, &token, None).await.unwrap();
    let status = c.run_task(process("sleeper", "sleep 60")).await.unwrap();
    let alive = |pid: u32| {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
    };
    let mut pid = status.pid;
    for _ in 0..100 {
        if pid != 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        pid = c.list_tasks().await.unwrap().iter().find(|t| t.task_id == "sleeper").map_or(0, |t| t.pid);
    }
    assert!(pid != 0 && alive(pid), "the task runs (pid {pid})");
    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
    assert!(!alive(pid), "pid {pid} outlived its agent");
}

/// A fresh agent's first snapshot (which a node needs in before it takes dispatched work) comes
/// with its first sample, not a sampling interval (1 s) later.
#[tokio::test]
async fn a_fresh_agent_sends_its_first_snapshot_at_once() {
    let t0 = std::time::Instant::now();
    let a = start(true).await;
    let c = AgentClient::connect(&a.addr.to_string(), &a.token, None).await.unwrap();
    let mut m = c.stream_metrics(1000, 50).await.unwrap();
    loop {
        let ev = m.message().await.unwrap().unwrap();
        if let Some(s) = steward_agent::decode_snapshot(&ev) {
            let s = s.unwrap();
            assert!(s.memory.value().is_some(), "{:?}", s.memory);
            break;
        }
    }
    let took = t0.elapsed();
    assert!(took < std::time::Duration::from_millis(800), "first snapshot after {took:?}");
}

#[tokio::test]
async fn wrong_token_no_token_wrong_pin_and_plain_text_are_refused() {
    let a = start(false).await;
    let addr = a.addr.to_string();
    let fp = a.fingerprint.clone().unwrap();
    let wrong = AgentClient::connect(&addr, "nope", Some(&fp)).await.unwrap();
    assert!(matches!(wrong.inventory().await, Err(AgentError::Unauthenticated { .. })));
    let empty = AgentClient::connect(&addr, "", Some(&fp)).await.unwrap();
    assert!(matches!(empty.inventory().await, Err(AgentError::Unauthenticated { .. })));

    let other = format!("sha256:{}", "0".repeat(64));
    let err = match AgentClient::connect(&addr, &a.token, Some(&other)).await {
        Ok(c) => c.inventory().await.unwrap_err(),
        Err(e) => e,
    };
    assert!(matches!(err, AgentError::FingerprintMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&fp), "{err}");

    // Plain text to a TLS agent gets no answer.
    let err = match AgentClient::connect(&addr, &a.token, None).await {
        Ok(c) => c.inventory().await.unwrap_err(),
        Err(e) => e,
    };
    assert!(matches!(err, AgentError::Unreachable { .. }), "{err}");

    // The probe shows the fingerprint before anything is trusted.
    assert_eq!(steward_agent::tls::probe_fingerprint(&addr).await.unwrap(), fp);
}

/// A redialled client (the executor's own connection) keeps the pin and the token: it works on
/// another runtime, and one from a client with the wrong token is refused like it.
#[tokio::test]
async fn redialled_clients_keep_the_pin_and_the_token() {
    let a = start(false).await;
    let addr = a.addr.to_string();
    let fp = a.fingerprint.clone().unwrap();
    let good = AgentClient::connect(&addr, &a.token, Some(&fp)).await.unwrap();
    let wrong = AgentClient::connect(&addr, "nope", Some(&fp)).await.unwrap();
    // On a thread of its own, while this runtime keeps serving the agent.
    let (good, wrong) = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        rt.block_on(async move {
            let (g, w) = (good.redial_here(), wrong.redial_here());
            assert_eq!(g.origin(), good.origin());
            (g.inventory().await.map(|i| i.limits_mechanism), w.inventory().await.map(|_| ()))
        })
    })
    .await
    .unwrap();
    assert!(good.is_ok(), "{good:?}");
    assert!(matches!(wrong, Err(AgentError::Unauthenticated { .. })), "{wrong:?}");
}

#[tokio::test]
async fn plain_text_is_for_loopback_only() {
    let a = start(true).await;
    let c = AgentClient::connect(&a.addr.to_string(), &a.token, None).await.unwrap();
    c.inventory().await.unwrap();
    // The probe recognises it: no certificate, a plain-text agent (added with `fingerprint: ""`).
    assert_eq!(AgentClient::probe(&a.addr.to_string()).await.unwrap(), None);
    let tls = start(false).await;
    assert_eq!(AgentClient::probe(&tls.addr.to_string()).await.unwrap(), tls.fingerprint);
    // Nothing listening: the TLS probe's error, not a plain-text agent.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    assert!(matches!(AgentClient::probe(&closed).await, Err(AgentError::Unreachable { .. })));
    let dir = tempfile::tempdir().unwrap();
    let mut config = AgentConfig::new("0.0.0.0:0".parse().unwrap(), dir.path().to_owned());
    config.plain_text = true;
    assert!(matches!(steward_agent::bind(config).await, Err(AgentError::PlainTextOffLoopback(_))));
}

/// Limits asked for apply to the process, by whichever mechanism the agent reports (cgroup v2,
/// v1, or rlimits): read back from the cgroup files of the process's own cgroups, or its ulimit.
#[tokio::test]
async fn asked_limits_apply_to_the_process() {
    let a = start(true).await;
    let c = AgentClient::connect(&a.addr.to_string(), &a.token, None).await.unwrap();
    let memory = 256u64 << 20;
    let mut spec = process("limited", "cat /proc/self/cgroup; echo \"as=$(ulimit -v)\"; sleep 30");
    spec.limits = Some(ResourceLimits { cpu_millis: 500, memory_bytes: memory, max_pids: 64 });
    c.run_task(spec).await.unwrap();
    let mut w = c.watch_task("limited", 0).await.unwrap();
    let (mut lines, mut mechanism) = (Vec::<String>::new(), String::new());
    while !lines.iter().any(|l| l.starts_with("as=")) {
        let ev = w.message().await.unwrap().expect("the task ended early");
        lines.extend(ev.lines.iter().map(|l| text(&l.data)));
        mechanism = ev.status.unwrap().limits_mechanism;
    }
    // The process's cgroup for a controller, as a path under /sys/fs/cgroup.
    let cgroup = |controller: &str| {
        lines.iter().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let v2 = controller.is_empty() && controllers.is_empty();
            (v2 || controllers.split(',').any(|c| c == controller))
                .then(|| format!("/sys/fs/cgroup/{controller}{path}"))
        })
    };
    let read =
        |path: String| std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")).trim().to_string();
    match mechanism.as_str() {
        "cgroup_v2" => {
            let dir = cgroup("").unwrap();
            assert!(dir.contains("steward"), "{lines:?}");
            assert_eq!(read(format!("{dir}/memory.max")), memory.to_string());
            assert_eq!(read(format!("{dir}/cpu.max")), "50000 100000");
            assert_eq!(read(format!("{dir}/pids.max")), "64");
        }
        "cgroup_v1" => {
            assert_eq!(
                read(format!("{}/memory.limit_in_bytes", cgroup("memory").unwrap())),
                memory.to_string(),
                "{lines:?}"
            );
            assert_eq!(read(format!("{}/cpu.cfs_quota_us", cgroup("cpu").unwrap())), "50000", "{lines:?}");
            assert_eq!(read(format!("{}/pids.max", cgroup("pids").unwrap())), "64", "{lines:?}");
        }
        "rlimit" => {
            let want = format!("as={}", memory / 1024);
            assert!(lines.contains(&want), "{want} not in {lines:?}");
        }
        other => panic!("limits not applied: {other}"),
    }
    c.cancel_task("limited").await.unwrap();
}

/// A task that joins the cgroup an earlier task with the same limits left empty is inside
/// those limits, and so is what its shell starts.
#[tokio::test]
async fn a_reused_cgroup_still_holds_its_limits() {
    let a = start(true).await;
    let c = AgentClient::connect(&a.addr.to_string(), &a.token, None).await.unwrap();
    let limits = Some(ResourceLimits { cpu_millis: 500, ..Default::default() });
    let mut cgroup_of = Vec::new();
    for id in ["first", "second"] {
        let mut spec = process(id, "cat /proc/self/cgroup");
        spec.limits = limits;
        spec.wait = true;
        let status = c.run_task(spec).await.unwrap();
        if !status.limits_mechanism.starts_with("cgroup_v") {
            return; // No writable cgroups here: nothing is pooled.
        }
        let mut w = c.watch_task(id, 0).await.unwrap();
        let mut lines = Vec::new();
        while let Some(ev) = w.message().await.unwrap() {
            lines.extend(ev.lines.iter().map(|l| text(&l.data)));
        }
        // v1: the cpu hierarchy's line; v2: the only one.
        let line = lines
            .iter()
            .find(|l| l.split(':').nth(1).is_some_and(|c| c.is_empty() || c.split(',').any(|c| c == "cpu")))
            .cloned();
        let path =
            line.and_then(|l| l.splitn(3, ':').nth(2).map(str::to_string)).unwrap_or_else(|| panic!("{lines:?}"));
        let dir = if status.limits_mechanism == "cgroup_v1" {
            format!("/sys/fs/cgroup/cpu{path}")
        } else {
            format!("/sys/fs/cgroup{path}")
        };
        let quota = std::fs::read_to_string(format!(
            "{dir}/{}",
            if status.limits_mechanism == "cgroup_v1" { "cpu.cfs_quota_us" } else { "cpu.max" }
        ))
        .unwrap();
        assert!(quota.starts_with("50000"), "{dir}: {quota}");
        cgroup_of.push(dir);
    }
    assert_eq!(cgroup_of[0], cgroup_of[1], "the second task joined the first one's cgroup");
}

/// A token file someone wrote by hand is held to the same standard as `--token`: a weak one
/// stops the agent at start, naming the file, instead of guarding it.
#[tokio::test]
async fn a_weak_token_in_the_state_directory_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "aaaaaaaaaaaaaaaaaaaaaaaa\n").unwrap();
    let config = AgentConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().to_owned());
    let err = steward_agent::bind(config).await.err().expect("a weak token file must be refused");
    assert!(matches!(err, AgentError::WeakToken(_)), "{err}");
    assert!(err.to_string().contains("token (delete it"), "{err}");

    // A generated one is strong, and the agent reports a node id it keeps across restarts.
    std::fs::remove_file(dir.path().join("token")).unwrap();
    let first =
        steward_agent::bind(AgentConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().to_owned())).await.unwrap();
    assert!(steward_core::credential::check_token_strength(&first.token).is_ok());
    let node_id = first.node_id.clone();
    drop(first);
    let again =
        steward_agent::bind(AgentConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().to_owned())).await.unwrap();
    assert_eq!(again.node_id, node_id);
    assert_eq!(node_id.len(), 32);
}

/// Watches a task to its end: its final status and every line it kept.
async fn run_to_end(c: &AgentClient, spec: TaskSpec) -> (steward_agent::proto::TaskStatus, Vec<LogLine>) {
    let id = spec.task_id.clone();
    c.run_task(spec).await.unwrap();
    let mut w = c.watch_task(&id, 0).await.unwrap();
    let (mut status, mut lines) = (None, Vec::new());
    while let Some(ev) = w.message().await.unwrap() {
        lines.extend(ev.lines);
        status = ev.status;
    }
    (status.unwrap(), lines)
}

/// Output is bytes: a byte that is not UTF-8 neither ends the log nor kills the task (its pipe
/// used to close at that byte, and the task died of SIGPIPE writing more).
#[tokio::test]
async fn output_that_is_not_utf8_is_kept_whole() {
    let a = start(true).await;
    let c = AgentClient::connect(&a.addr.to_string(), &a.token, None).await.unwrap();
    let (status, lines) = run_to_end(&c, process("bytes", "echo before; printf 'x\\377y\\n'; echo after")).await;
    assert_eq!(status.state, TaskState::Succeeded as i32, "{status:?}");
    let data: Vec<&[u8]> = lines.iter().map(|l| l.data.as_slice()).collect();
    assert_eq!(data, [&b"before"[..], b"x\xffy", b"after"]);

    let (status, lines) =
        run_to_end(&c, process("more", "printf 'x\\377y\\n'; seq 1 200000; printf 'x\\377y\\n' >&2; echo end")).await;
    assert_eq!(status.state, TaskState::Succeeded as i32, "{status:?}");
    let stdout: Vec<&LogLine> = lines.iter().filter(|l| !l.stderr).collect();
    assert_eq!(stdout.last().map(|l| l.data.as_slice()), Some(&b"end"[..]));
    assert!(lines.iter().any(|l| l.stderr && l.data == b"x\xffy"));
}

/// A line longer than 64 KiB travels in numbered pieces that join into the line.
#[tokio::test]
async fn a_long_line_travels_in_pieces() {
    let a = start(true).await;
    let c = AgentClient::connect(&a.addr.to_string(), &a.token, None).await.unwrap();
    let (_, lines) = run_to_end(&c, process("long", "head -c 200000 /dev/zero | tr '\\0' a; echo; echo next")).await;
    let partial: Vec<bool> = lines.iter().map(|l| l.partial).collect();
    assert_eq!(partial, [true, true, true, false, false]);
    let joined: Vec<u8> = lines[..4].iter().flat_map(|l| l.data.iter().copied()).collect();
    assert_eq!(joined, vec![b'a'; 200_000]);
    assert_eq!(lines[4].data, b"next");
}

/// The end of a task names its cause: the signal by name, the timeout, the missing working
/// directory (not the program).
#[tokio::test]
async fn endings_name_their_cause() {
    let a = start(true).await;
    let c = AgentClient::connect(&a.addr.to_string(), &a.token, None).await.unwrap();
    let (killed, _) = run_to_end(&c, process("killed", "kill -9 $$")).await;
    assert_eq!((killed.state, killed.error.as_str()), (TaskState::Failed as i32, "killed by SIGKILL"));
    let mut slow = process("slow", "sleep 30");
    slow.timeout_ms = 1000;
    let (slow, _) = run_to_end(&c, slow).await;
    assert_eq!((slow.state, slow.error.as_str()), (TaskState::TimedOut as i32, "timed out after 1 s"));
    let mut nowhere = process("nowhere", "true");
    nowhere.working_dir = "/no/such/dir".into();
    let (nowhere, _) = run_to_end(&c, nowhere).await;
    assert_eq!(nowhere.error, "working_dir /no/such/dir does not exist");
    let (exit, _) = run_to_end(&c, process("exit", "exit 3")).await;
    assert_eq!((exit.exit_code, exit.error.as_str()), (3, "exited with status 3"));
}

/// A task the kernel killed for exceeding its cgroup's memory limit says so, with the limit
/// (read from the cgroup's OOM counter: memory.oom_control under v1, memory.events under v2).
#[tokio::test]
async fn a_task_over_its_memory_limit_is_named_oom() {
    let a = start(true).await;
    let c = AgentClient::connect(&a.addr.to_string(), &a.token, None).await.unwrap();
    // The shell keeps 300 MB in a variable.
    let mut hog = process("hog", "a=$(head -c 300000000 /dev/zero | tr '\\0' x); echo ${#a}");
    hog.limits = Some(ResourceLimits { memory_bytes: 32 << 20, ..Default::default() });
    let (status, _) = run_to_end(&c, hog).await;
    if !status.limits_mechanism.starts_with("cgroup_v") {
        return eprintln!("no writable memory cgroup here ({}): nothing to check", status.limits_mechanism);
    }
    assert_eq!(status.state, TaskState::Failed as i32, "{status:?}");
    assert!(status.error.starts_with("exceeded its memory limit of 32 MiB (OOM): "), "{status:?}");
}

/// Lines no caller has read are kept, however many a short task prints before anyone watches
/// (they used to be dropped past the log's 500 newest); an answer that waits for the end, with
/// no reader meanwhile, gets the newest lines and their numbers show what it missed.
#[tokio::test]
async fn lines_nobody_read_are_never_dropped() {
    let a = start(true).await;
    let c = AgentClient::connect(&a.addr.to_string(), &a.token, None).await.unwrap();
    let mut many = process("many", "seq 1 10000");
    many.wait_ms = 50;
    c.start_task(many).await.unwrap();
    let mut w = c.watch_task("many", 0).await.unwrap();
    let mut lines = Vec::new();
    while let Some(ev) = w.message().await.unwrap() {
        lines.extend(ev.lines);
    }
    assert_eq!(lines.len(), 10_000);
    assert!(lines.iter().enumerate().all(|(i, l)| l.number == i as u64 && l.data == (i + 1).to_string().as_bytes()));

    let mut waited = process("waited", "seq 1 10000");
    waited.wait = true;
    let r = c.start_task(waited).await.unwrap();
    assert_eq!(r.status.unwrap().state, TaskState::Succeeded as i32);
    assert_eq!(r.lines.last().map(|l| (l.number, l.data.as_slice())), Some((9999, &b"10000"[..])));
    assert!(r.lines[0].number > 0, "the first lines went, and the numbers say so");
}

/// A task cancelled while its unread output fills the log ends at once: nobody waits for the
/// rest of a cancelled task's output.
#[tokio::test]
async fn a_cancelled_task_with_unread_output_ends() {
    let a = start(true).await;
    let c = AgentClient::connect(&a.addr.to_string(), &a.token, None).await.unwrap();
    c.start_task(process("chatty", "seq 1 100000; sleep 30")).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    c.cancel_task("chatty").await.unwrap();
    let t0 = std::time::Instant::now();
    loop {
        let s = c.list_tasks().await.unwrap().into_iter().find(|t| t.task_id == "chatty").unwrap();
        if s.state == TaskState::Cancelled as i32 {
            break;
        }
        assert!(t0.elapsed() < std::time::Duration::from_secs(5), "still {s:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
