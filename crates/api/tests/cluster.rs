//! The cluster manager against real agents on loopback: adding (and refusing) nodes, states
//! from the heartbeat stream, drain, remove, and nodes dialed again after a restart.

use std::time::{Duration, Instant};

use steward_agent::AgentConfig;
use steward_api::{AdapterProbe, AddNode, AllocError, ApiConfig, NodeHealth, ProbeRequest, Steward};
use steward_core::dispatch::{InputSpec, TaskSpec};

struct Agent {
    address: String,
    token: String,
    fingerprint: String,
    /// The agent's own runtime: shutting it down drops its connections, as a killed process would.
    runtime: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

impl Agent {
    fn kill(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

fn agent() -> Agent {
    agent_at("127.0.0.1:0")
}

/// An agent with a fresh state directory (so a certificate of its own) listening on `listen`.
fn agent_at(listen: &str) -> Agent {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let config = AgentConfig::new(listen.parse().unwrap(), dir.path().to_owned());
    // block_on cannot run on the test's own runtime threads; the port may take a moment to free.
    let bind = || runtime.block_on(steward_agent::bind(config.clone()));
    let start = Instant::now();
    let bound = loop {
        match std::thread::scope(|sc| sc.spawn(bind).join().unwrap()) {
            Ok(b) => break b,
            Err(e) if start.elapsed() < Duration::from_secs(5) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("{e}"),
        }
    };
    let (address, token, fingerprint) =
        (bound.addr.to_string(), bound.token.clone(), bound.fingerprint.clone().unwrap());
    runtime.spawn(bound.serve(std::future::pending()));
    Agent { address, token, fingerprint, runtime: Some(runtime), _dir: dir }
}

/// Starts the service, waiting out a previous one in this test that still holds the database.
async fn steward(dir: &tempfile::TempDir) -> Steward {
    let start = Instant::now();
    loop {
        match Steward::start(ApiConfig {
            db_path: dir.path().join("h.db"),
            adapter_probe: AdapterProbe::Skip,
            ..ApiConfig::default()
        }) {
            Ok(s) => return s,
            Err(e) if start.elapsed() < Duration::from_secs(5) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

async fn wait_for(s: &Steward, id: &str, state: NodeHealth, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if s.nodes().iter().any(|n| n.id == id && n.state == state) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{id} not {state:?} within {within:?}: {:?}",
            s.nodes().iter().map(|n| (&n.id, n.state, &n.error)).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_are_added_only_with_the_right_token_and_pin_and_tracked_live() {
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir).await;
    let mut a = agent();
    assert_eq!(s.nodes()[0].id, "local");

    let probe = s.probe_node(ProbeRequest { address: a.address.clone() }).await.unwrap();
    assert_eq!(probe.fingerprint, a.fingerprint);

    let add = |token: &str, fp: Option<&str>| AddNode {
        address: a.address.clone(),
        token: token.into(),
        fingerprint: fp.map(Into::into),
    };
    let e = s.add_node(add("wrong", Some(&a.fingerprint))).await.unwrap_err();
    assert!(e.is_client_error() && e.to_string().contains("refused the token"), "{e}");
    let other = format!("sha256:{}", "1".repeat(64));
    let e = s.add_node(add(&a.token, Some(&other))).await.unwrap_err();
    assert!(e.is_client_error() && e.to_string().contains("not the pinned"), "{e}");
    let e = s.add_node(add(&a.token, None)).await.unwrap_err();
    assert!(e.is_client_error(), "{e}");
    assert_eq!(s.nodes().len(), 1, "refused nodes are not kept");

    let mut changes = s.node_changes();
    s.add_node(add(&a.token, Some(&a.fingerprint))).await.unwrap();
    wait_for(&s, &a.address, NodeHealth::Up, Duration::from_secs(5)).await;
    let change = changes.recv().await.unwrap();
    assert_eq!((change.id.as_str(), change.state), (a.address.as_str(), NodeHealth::Up));
    assert!(s.agent(&a.address).is_some());
    // Snapshots arrive over the stream.
    let start = Instant::now();
    while s.nodes()[1].latest.is_none() {
        assert!(start.elapsed() < Duration::from_secs(5), "no snapshot from the agent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let view = &s.nodes()[1];
    assert!(view.inventory.is_some() && view.phi.is_some() && view.limits_mechanism.is_some());

    s.drain_node(a.address.clone(), true).await.unwrap();
    assert_eq!(s.nodes()[1].state, NodeHealth::Draining);
    s.drain_node(a.address.clone(), false).await.unwrap();
    wait_for(&s, &a.address, NodeHealth::Up, Duration::from_secs(1)).await;

    // The agent goes away: the dropped connection is noticed within a second.
    a.kill();
    let took = wait_for(&s, &a.address, NodeHealth::Down, Duration::from_secs(1)).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(s.nodes()[1].error.is_some());

    // Stored: a new service dials it again.
    drop(s);
    let s = steward(&dir).await;
    assert_eq!(s.nodes().len(), 2);
    s.remove_node(a.address.clone()).await.unwrap();
    assert_eq!(s.nodes().len(), 1);
    assert!(s.remove_node(a.address.clone()).await.unwrap_err().is_client_error());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_node_reconnects_after_the_service_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let a = agent();
    {
        let s = steward(&dir).await;
        s.add_node(AddNode {
            address: a.address.clone(),
            token: a.token.clone(),
            fingerprint: Some(a.fingerprint.clone()),
        })
        .await
        .unwrap();
        s.drain_node(a.address.clone(), true).await.unwrap();
    }
    let s = steward(&dir).await;
    wait_for(&s, &a.address, NodeHealth::Draining, Duration::from_secs(5)).await;
}

/// A node whose agent now presents another certificate is down with that reason; a task with
/// no other node is refused with it, instead of being accepted to wait forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_only_node_is_refused_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir).await;
    let mut a = agent();
    s.add_node(AddNode {
        address: a.address.clone(),
        token: a.token.clone(),
        fingerprint: Some(a.fingerprint.clone()),
    })
    .await
    .unwrap();
    wait_for(&s, &a.address, NodeHealth::Up, Duration::from_secs(5)).await;
    a.kill();
    let _impostor = agent_at(&a.address);
    let start = Instant::now();
    while !s.nodes().iter().any(|n| n.error.as_deref().is_some_and(|e| e.contains("not the pinned"))) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}",
            s.nodes().iter().map(|n| &n.error).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let task = TaskSpec::new(vec!["true".into()], InputSpec::Shards { count: 1 });
    let refused = s.distribute(task.clone()).await;
    let Err(AllocError::Conflict(why)) = refused else { panic!("{refused:?}") };
    assert!(why.starts_with(&format!("no node accepts work: {} down (", a.address)), "{why}");
    assert!(why.contains("not the pinned"), "{why}");
    let waits = TaskSpec { wait: true, ..task };
    let id = s.distribute(waits).await.unwrap().execution_id;
    let pending = s.execution(&id).unwrap();
    assert!(pending.partitions[0].waiting.as_deref().is_some_and(|w| w.contains("not the pinned")), "{pending:?}");
}
