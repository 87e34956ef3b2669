//! The executor against real agents in this process (loopback, plain text): a partitioned job
//! whose every item leaves a line, lost nodes, reuse, lazy dependents, and the REST shapes.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::json;
use std::io::Read;
use steward_agent::{AgentClient, AgentConfig};

use steward_api::{
    AdapterProbe, AllocError, ApiConfig, DispatchNode, DistributedResult, Liveness, OutputSource, StaticNodes, Steward,
};
use steward_core::alloc::NodeResources;
use steward_core::dispatch::{
    CutBy, DispatchConfig, ExecStatus, Execution, InputSpec, Locality, NodeLoad, OutputLimits, TaskKind, TaskSpec,
    Unconstrained, split,
};

struct Agent {
    client: AgentClient,
    _dir: tempfile::TempDir,
}

async fn agent() -> Agent {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AgentConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().to_owned());
    config.plain_text = true;
    let bound = steward_agent::bind(config).await.unwrap();
    let client = AgentClient::connect(&bound.addr.to_string(), &bound.token, None).await.unwrap();
    tokio::spawn(bound.serve(std::future::pending()));
    Agent { client, _dir: dir }
}

fn node(id: &str, client: &AgentClient, cores: u32) -> DispatchNode {
    DispatchNode {
        id: id.into(),
        liveness: Liveness::Up,
        client: Some(client.clone()),
        resources: NodeResources {
            node: id.into(),
            cores,
            memory_bytes: 1 << 30,
            labels: Default::default(),
            gpus: vec![],
            accelerators: vec![],
        },
    }
}

fn steward(dir: &tempfile::TempDir) -> Steward {
    let mut config =
        ApiConfig { db_path: dir.path().join("s.db"), adapter_probe: AdapterProbe::Skip, ..ApiConfig::default() };
    config.sampler.gpus = false;
    Steward::start(config).unwrap()
}

/// Prints every item of its range, one per line.
fn seq_task(items: u64) -> TaskSpec {
    TaskSpec::new(
        vec!["sh".into(), "-c".into(), "i={start}; while [ $i -lt {end} ]; do echo item $i; i=$((i+1)); done".into()],
        InputSpec::Range { start: 0, end: items },
    )
}

fn items(n: u64) -> Vec<String> {
    (0..n).map(|i| format!("item {i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_job_runs_across_agents_and_its_result_is_reused() {
    let (a, b) = (agent().await, agent().await);
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir);
    let nodes = Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 2), node("b", &b.client, 2)])));
    s.set_dispatch_nodes(nodes.clone());

    let r = s.distributed(json!({"id": "req-1", "operation": "distribute", "task": seq_task(200)})).await.unwrap();
    assert_eq!(r.request_id, "req-1");
    let DistributedResult::Distribute(d) = r.result else { panic!() };
    assert_eq!(d.partitions.len(), 32, "4 slots × 8 partitions per slot");
    assert!(d.assignments.iter().all(|a| a.node.is_some()));
    let done = s.wait_execution(&d.execution_id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.status, ExecStatus::Succeeded, "{done:?}");
    assert_eq!(s.execution_output(&d.execution_id).unwrap(), items(200));
    let used: std::collections::BTreeSet<_> = done.partitions.iter().filter_map(|p| p.node.clone()).collect();
    assert_eq!(used.len(), 2, "both nodes took work");

    let m = s.distributed(json!({"operation": "monitor", "execution_id": d.execution_id})).await.unwrap();
    let DistributedResult::Monitor(m) = m.result else { panic!() };
    assert_eq!((m.status, m.progress, m.report.succeeded), (ExecStatus::Succeeded, 1.0, 32));
    assert_eq!(m.node_statuses.iter().map(|n| n.succeeded).sum::<u32>(), 32);

    // The same command and input again: reused, nothing runs.
    let again = s.distribute(seq_task(200)).await.unwrap();
    let e = s.execution(&again.execution_id).unwrap();
    assert_eq!(e.status, ExecStatus::Succeeded);
    assert_eq!(s.execution_output(&again.execution_id).unwrap(), items(200));
    let mut opt_out = seq_task(200);
    opt_out.reuse = false;
    let fresh = s.distribute(opt_out).await.unwrap();
    assert_eq!(
        s.wait_execution(&fresh.execution_id, Duration::from_secs(30)).await.unwrap().status,
        ExecStatus::Succeeded
    );

    // Unknown executions and operations.
    assert!(matches!(
        s.distributed(json!({"operation": "monitor", "execution_id": "nope"})).await,
        Err(AllocError::NotFound(_))
    ));
    assert!(matches!(s.distributed(json!({"operation": "fly"})).await, Err(AllocError::Invalid(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_declared_down_loses_its_partitions_to_the_others() {
    let (a, b) = (agent().await, agent().await);
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir);
    let nodes = Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 2), node("b", &b.client, 2)])));
    s.set_dispatch_nodes(nodes.clone());
    let mut task = TaskSpec::new(
        vec!["sh".into(), "-c".into(), "sleep 0.3; echo part {start}".into()],
        InputSpec::Range { start: 0, end: 8 },
    );
    task.partitions = Some(8);
    let d = s.distribute(task).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    nodes.set_liveness("b", Liveness::Down);
    let done = s.wait_execution(&d.execution_id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.status, ExecStatus::Succeeded, "{done:?}");
    let out = s.execution_output(&d.execution_id).unwrap();
    assert_eq!(
        out,
        (0..8).map(|i| format!("part {i}")).collect::<Vec<_>>(),
        "every partition once, late results from b discarded"
    );
    let retried: Vec<_> = done.partitions.iter().filter(|p| p.attempts > 1).collect();
    assert!(!retried.is_empty());
    assert!(retried.iter().all(|p| p.node.as_deref() == Some("a")));
}

/// A write that fails holds back the start orders it covered: no agent hears of an attempt
/// before it is on disk, and once a write succeeds they go out and the execution finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_orders_wait_for_a_write_that_succeeds() {
    let (a, b) = (agent().await, agent().await);
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir);
    let nodes = Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 1)])));
    s.set_dispatch_nodes(nodes.clone());
    let mut task =
        TaskSpec::new(vec!["sh".into(), "-c".into(), "sleep 1; echo done".into()], InputSpec::Shards { count: 1 });
    task.reuse = false;
    let d = s.distribute(task).await.unwrap();
    let started = tokio::time::Instant::now();
    while a.client.list_tasks().await.unwrap().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "never started on a");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Another connection holds the database's write lock: the executor's writes fail (busy).
    let lock = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // b joins and a goes down: the retry on b is decided but cannot be written.
    nodes.0.write().unwrap().push(node("b", &b.client, 1));
    nodes.set_liveness("a", Liveness::Down);
    let on_b = |s: &Steward| s.execution(&d.execution_id).unwrap().partitions[0].node.as_deref() == Some("b");
    while !on_b(&s) {
        assert!(started.elapsed() < Duration::from_secs(20), "no retry on b");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(b.client.list_tasks().await.unwrap().is_empty(), "b was sent an attempt that is not on disk");

    lock.execute_batch("COMMIT").unwrap();
    drop(lock);
    let done = s.wait_execution(&d.execution_id, Duration::from_secs(20)).await.unwrap();
    assert_eq!(done.status, ExecStatus::Succeeded, "{done:?}");
    assert_eq!(b.client.list_tasks().await.unwrap().len(), 1);
    assert_eq!(s.execution_output(&d.execution_id).unwrap(), vec!["done".to_string()]);
}

/// A no-op attempt left running by a control center that stopped before its answer came (as a
/// kill -9 leaves it) is sent again once its node is up: not retried, not left running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_noop_attempt_running_at_a_restart_is_sent_again() {
    let a = agent().await;
    let dir = tempfile::tempdir().unwrap();
    let mut task = TaskSpec::new(vec![], InputSpec::Shards { count: 1 });
    task.kind = TaskKind::Noop;
    task.reuse = false;
    let mut e = Execution::new("x1".into(), task.clone(), split(&task.input, 1), vec![Some("a".into())], 0);
    let mut views = [NodeLoad { name: "a".into(), slots: 1, busy: 0, available: true }];
    let started = e.tick(&mut views, &Locality::default(), &DispatchConfig::default(), &mut Unconstrained, 0);
    assert_eq!(started.len(), 1);
    steward_store::Store::open(&dir.path().join("s.db")).unwrap().put_executions([&e]).unwrap();

    let s = steward(&dir);
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 1)]))));
    let done = s.wait_execution("x1", Duration::from_secs(10)).await.unwrap();
    assert_eq!(done.status, ExecStatus::Succeeded, "{done:?}");
    assert_eq!(done.partitions[0].attempts, 1, "the same attempt answered, no retry");
}

/// A task submitted after its dependencies ended runs at once if they succeeded, and fails at
/// once if one failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependent_of_tasks_already_ended_runs_or_fails_at_once() {
    let a = agent().await;
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir);
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 2)]))));
    let task = |id: &str, argv: &[&str], deps: &[&str]| {
        let mut t = TaskSpec::new(argv.iter().map(ToString::to_string).collect(), InputSpec::Shards { count: 1 });
        (t.id, t.reuse, t.max_attempts) = (Some(id.into()), false, Some(1));
        t.depends_on = deps.iter().map(ToString::to_string).collect();
        t
    };
    for (id, argv) in [("ok", "true"), ("bad", "false")] {
        let x = s.distribute(task(id, &[argv], &[])).await.unwrap().execution_id;
        s.wait_execution(&x, Duration::from_secs(10)).await.unwrap();
    }
    let after_ok = s.distribute(task("after-ok", &["echo", "ran"], &["ok"])).await.unwrap().execution_id;
    let done = s.wait_execution(&after_ok, Duration::from_secs(10)).await.unwrap();
    assert_eq!(done.status, ExecStatus::Succeeded, "{done:?}");
    let after_bad = s.distribute(task("after-bad", &["echo", "ran"], &["ok", "bad"])).await.unwrap().execution_id;
    let done = s.wait_execution(&after_bad, Duration::from_secs(10)).await.unwrap();
    assert_eq!(done.status, ExecStatus::Failed, "{done:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lazy_dependent_runs_only_when_asked_for_and_after_its_input() {
    let a = agent().await;
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir);
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 2)]))));
    let mut first =
        TaskSpec::new(vec!["sh".into(), "-c".into(), "sleep 0.2; echo one".into()], InputSpec::Shards { count: 1 });
    first.id = Some("first".into());
    let mut second = TaskSpec::new(vec!["echo".into(), "two".into()], InputSpec::Shards { count: 1 });
    second.id = Some("second".into());
    second.depends_on = vec!["first".into()];
    second.lazy = true;
    let d2 = s.distribute(second).await.unwrap();
    let d1 = s.distribute(first).await.unwrap();
    assert_eq!(
        s.wait_execution(&d1.execution_id, Duration::from_secs(30)).await.unwrap().status,
        ExecStatus::Succeeded
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.execution(&d2.execution_id).unwrap().status, ExecStatus::Waiting, "nobody asked for it yet");
    s.monitor(&d2.execution_id).unwrap();
    assert_eq!(
        s.wait_execution(&d2.execution_id, Duration::from_secs(30)).await.unwrap().status,
        ExecStatus::Succeeded
    );
    assert_eq!(s.execution_output(&d2.execution_id).unwrap(), ["two"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_executions_leave_memory_but_stay_readable() {
    let a = agent().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        ApiConfig { db_path: dir.path().join("s.db"), adapter_probe: AdapterProbe::Skip, ..ApiConfig::default() };
    config.sampler.gpus = false;
    config.dispatch.kept_finished = 1_000;
    let s = Steward::start(config).unwrap();
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 2)]))));
    let noop = || {
        let mut t = TaskSpec::new(vec![], InputSpec::Shards { count: 1 });
        t.kind = TaskKind::Noop;
        t.reuse = false;
        t
    };
    let mut early = noop();
    early.id = Some("early".into());
    let ids: Vec<String> = s
        .distribute_many(std::iter::once(early).chain((0..1_200).map(|_| noop())).collect())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.execution_id)
        .collect();
    for id in &ids {
        assert_eq!(s.wait_execution(id, Duration::from_secs(30)).await.unwrap().status, ExecStatus::Succeeded);
    }
    // The next pass writes the last ones and lets the oldest go.
    s.distribute(noop()).await.unwrap();
    let kept = s.executions().unwrap().len();
    assert!(kept <= 1_001, "{kept} executions in memory");
    let tasks = s.tasks_in_memory().unwrap();
    assert!(tasks <= 1_001, "{tasks} tasks in the graph");
    // A dependent of a task that left memory reads its outcome from the store and runs.
    let mut dependent = noop();
    dependent.depends_on = vec!["early".into()];
    let d = s.distribute(dependent).await.unwrap();
    assert_eq!(s.wait_execution(&d.execution_id, Duration::from_secs(10)).await.unwrap().status, ExecStatus::Succeeded);
    let first = &ids[0];
    assert_eq!(s.execution(first).unwrap().status, ExecStatus::Succeeded, "read from the store");
    assert_eq!(s.execution_status(first).unwrap(), ExecStatus::Succeeded, "its status alone, from the store");
    let m = s.distributed(json!({"operation": "monitor", "execution_id": first})).await.unwrap();
    let DistributedResult::Monitor(m) = m.result else { panic!() };
    assert_eq!((m.status, m.report.succeeded), (ExecStatus::Succeeded, 1));
    assert_eq!(s.cancel_execution(first).unwrap().status, ExecStatus::Succeeded, "nothing to cancel");
    assert!(matches!(s.execution("x-none"), Err(steward_api::ApiError::NotFound(_))));
    assert!(matches!(s.execution_status("x-none"), Err(steward_api::ApiError::NotFound(_))));
}

fn sleeper(id: &str, owner: &str) -> steward_agent::proto::TaskSpec {
    steward_agent::proto::TaskSpec {
        task_id: id.into(),
        program: "sleep".into(),
        args: vec!["30".into()],
        owner: owner.into(),
        ..Default::default()
    }
}

async fn state_of(client: &AgentClient, id: &str) -> Option<steward_agent::proto::TaskState> {
    let tasks = client.list_tasks().await.unwrap();
    tasks.iter().find(|t| t.task_id == id).and_then(|t| steward_agent::proto::TaskState::try_from(t.state).ok())
}

/// A task an agent runs for this control center, which has no record of it (a crash between a
/// new execution's first start order and its write leaves one), is cancelled once its node is
/// seen up; a task another caller started on the same agent is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_started_but_never_recorded_are_cancelled_when_their_node_is_up() {
    use steward_agent::proto::TaskState;
    let a = agent().await;
    let dir = tempfile::tempdir().unwrap();
    let owner = steward_store::Store::open(&dir.path().join("s.db")).unwrap().instance_id().unwrap();
    a.client.run_task(sleeper("gone.p0.a0", &owner)).await.unwrap();
    a.client.run_task(sleeper("theirs.p0.a0", "another-control-center")).await.unwrap();

    let s = steward(&dir);
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 1)]))));
    let started = tokio::time::Instant::now();
    while state_of(&a.client, "gone.p0.a0").await != Some(TaskState::Cancelled) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the orphan still runs: {:?}",
            state_of(&a.client, "gone.p0.a0").await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(state_of(&a.client, "theirs.p0.a0").await, Some(TaskState::Running));
    a.client.cancel_task("theirs.p0.a0").await.unwrap();
}

/// A new execution's first start orders go out while it is written; when the write fails, the
/// submitter hears so and nothing is left running on the agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_execution_that_cannot_be_recorded_leaves_nothing_running() {
    let a = agent().await;
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir);
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 2)]))));
    let lock = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let mut task = TaskSpec::new(vec!["sleep".into(), "30".into()], InputSpec::Shards { count: 2 });
    task.reuse = false;
    let refused = s.distribute(task).await;
    assert!(refused.is_err(), "{refused:?}");
    lock.execute_batch("COMMIT").unwrap();
    let started = tokio::time::Instant::now();
    loop {
        let tasks = a.client.list_tasks().await.unwrap();
        if tasks.iter().all(|t| steward_agent::tasks::is_terminal(t.state)) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running: {tasks:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One partition running `script` in `sh`, tried once.
fn script_task(script: &str) -> TaskSpec {
    let mut t = TaskSpec::new(vec!["sh".into(), "-c".into(), script.into()], InputSpec::Shards { count: 1 });
    t.max_attempts = Some(1);
    t.reuse = false;
    t
}

/// Output past the task's limits is cut where the limit is, the cut says how much it left out,
/// and the whole output (its bytes as written, not UTF-8 included) streams from the spill file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_past_its_limits_is_cut_said_so_and_kept_whole_in_a_file() {
    let a = agent().await;
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir);
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 1)]))));
    let mut task = script_task("seq 1 5000; printf 'x\\377y\\n'");
    task.output = Some(OutputLimits { max_lines: Some(1000), max_bytes: None });
    let id = s.distribute(task).await.unwrap().execution_id;
    let done = s.wait_execution(&id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.status, ExecStatus::Succeeded, "{done:?}");
    let limits = done.output_limits.unwrap();
    assert_eq!(limits.max_lines, Some(1000));
    assert_eq!(limits.max_bytes, Some(DispatchConfig::default().max_output_bytes), "the default fills the gap");
    let kept = s.execution_output(&id).unwrap();
    assert_eq!(kept, (1..=1000).map(|i| i.to_string()).collect::<Vec<_>>());
    let cut = done.partitions[0].output_cut.unwrap();
    assert_eq!((cut.kept_lines, cut.total_lines, cut.by, cut.lost_lines), (1000, 5001, CutBy::Lines, 0));

    let mut whole = Vec::new();
    let source = s.partition_output(&id, 0).unwrap();
    assert!(matches!(source, OutputSource::File(_)), "{source:?}");
    source.open_at(0).unwrap().read_to_end(&mut whole).unwrap();
    let mut want: Vec<u8> = (1..=5000).flat_map(|i| format!("{i}\n").into_bytes()).collect();
    want.extend_from_slice(b"x\xffy\n");
    assert_eq!(whole, want);
    assert_eq!(cut.spilled_bytes, want.len() as u64);
    let chunk = s.partition_output_chunk(&id, 0, want.len() as u64 - 4, 100).unwrap();
    assert_eq!((chunk.text.as_str(), chunk.end), ("x\u{fffd}y\n", true));
    assert!(s.partition_output(&id, 1).is_err(), "no such partition");
    let OutputSource::File(path) = source else { unreachable!() };
    std::fs::remove_file(path).unwrap();
    let gone = s.partition_output(&id, 0).unwrap().open_at(0).err().unwrap();
    assert!(gone.is_client_error() && gone.to_string().contains("is gone"), "{gone}");
}

/// A single line far larger than the byte limit: the control center keeps the limit's worth of
/// memory, not the line; the file has the line whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_single_line_is_spilled_not_held() {
    let a = agent().await;
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir);
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 1)]))));
    let mut task = script_task("echo first; head -c 5000000 /dev/zero | tr '\\0' a; echo");
    task.output = Some(OutputLimits { max_lines: None, max_bytes: Some(1 << 20) });
    let id = s.distribute(task).await.unwrap().execution_id;
    let done = s.wait_execution(&id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.status, ExecStatus::Succeeded, "{done:?}");
    assert_eq!(s.execution_output(&id).unwrap(), ["first"]);
    let cut = done.partitions[0].output_cut.unwrap();
    assert_eq!((cut.by, cut.kept_lines, cut.total_lines, cut.total_bytes), (CutBy::Bytes, 1, 2, 5_000_005));
    assert!(done.partitions[0].log_tail.iter().all(|l| l.len() < 2000), "the tail shows lines shortened");
    let OutputSource::File(path) = s.partition_output(&id, 0).unwrap() else { panic!("not spilled") };
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 6 + 5_000_001);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

/// The end of a partition names its cause: the signal, the missing working directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_partition_names_the_cause() {
    let a = agent().await;
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir);
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(vec![node("a", &a.client, 1)]))));
    let killed = s.distribute(script_task("kill -9 $$")).await.unwrap().execution_id;
    let mut nowhere = script_task("true");
    nowhere.working_dir = Some("/no/such/dir".into());
    let nowhere = s.distribute(nowhere).await.unwrap().execution_id;
    for (id, cause) in [(killed, "killed by SIGKILL"), (nowhere, "working_dir /no/such/dir does not exist")] {
        let done = s.wait_execution(&id, Duration::from_secs(30)).await.unwrap();
        assert_eq!(done.status, ExecStatus::Failed);
        assert_eq!(done.partitions[0].error.as_deref(), Some(cause), "{done:?}");
    }
}

/// With no node that takes work, a task is refused with why, unless it asks to wait; then its
/// pending partitions say why they wait, until a node comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_node_to_take_work_is_refused_with_why_unless_the_task_waits() {
    let a = agent().await;
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir);
    let mut down = node("a", &a.client, 1);
    (down.liveness, down.client) = (Liveness::Down, None);
    let nodes = Arc::new(StaticNodes(RwLock::new(vec![down])));
    s.set_dispatch_nodes(nodes.clone());

    let refused = s.distributed(json!({"operation": "distribute", "task": script_task("echo hi")})).await;
    let Err(AllocError::Conflict(why)) = refused else { panic!("{refused:?}") };
    assert!(why.starts_with("no node accepts work: a down (not connected)"), "{why}");
    assert!(why.contains("\"wait\": true"), "{why}");

    let mut task = script_task("echo hi");
    task.wait = true;
    let id = s.distribute(task).await.unwrap().execution_id;
    let waiting = s.execution(&id).unwrap();
    assert_eq!(waiting.partitions[0].waiting.as_deref(), Some("no node accepts work: a down (not connected)"));
    let m = s.monitor(&id).unwrap();
    assert!(m.report.waiting.as_deref().is_some_and(|w| w.starts_with("no node accepts work")), "{m:?}");

    if let Ok(mut n) = nodes.0.write() {
        *n = vec![node("a", &a.client, 1)];
    }
    s.set_dispatch_nodes(nodes);
    let done = s.wait_execution(&id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.status, ExecStatus::Succeeded, "{done:?}");
    assert_eq!(done.partitions[0].waiting, None);
}
