//! Datasets: registered, validated, persisted across a restart on the same database, removed;
//! placement prefers the node holding a task's dataset; a task naming an unknown one is refused.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use steward_agent::{AgentClient, AgentConfig};
use steward_api::{AdapterProbe, AllocError, ApiConfig, ApiError, DispatchNode, Liveness, StaticNodes, Steward};
use steward_core::alloc::NodeResources;
use steward_core::dispatch::{Dataset, ExecStatus, InputSpec, TaskSpec};

/// A Steward on `dir`'s database; after a drop the previous one's threads may hold it a while
/// (on a loaded machine the sampling thread can take seconds to finish its pass).
async fn steward(dir: &tempfile::TempDir) -> Steward {
    let mut config =
        ApiConfig { db_path: dir.path().join("s.db"), adapter_probe: AdapterProbe::Skip, ..ApiConfig::default() };
    config.sampler.gpus = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match Steward::start(config.clone()) {
            Ok(s) => return s,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn dataset(name: &str, bytes: u64, nodes: &[&str]) -> Dataset {
    Dataset { name: name.into(), bytes, nodes: nodes.iter().map(ToString::to_string).collect() }
}

async fn agent(dir: &tempfile::TempDir) -> AgentClient {
    let mut config = AgentConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().to_owned());
    config.plain_text = true;
    let bound = steward_agent::bind(config).await.unwrap();
    let client = AgentClient::connect(&bound.addr.to_string(), &bound.token, None).await.unwrap();
    tokio::spawn(bound.serve(std::future::pending()));
    client
}

fn node(id: &str, client: &AgentClient) -> DispatchNode {
    DispatchNode { client: Some(client.clone()), ..resources_of(id) }
}

/// Nodes a dataset may name, without agents behind them.
fn offline_nodes(s: &Steward, ids: &[&str]) {
    let nodes =
        ids.iter().map(|id| DispatchNode { client: None, liveness: Liveness::Down, ..resources_of(id) }).collect();
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(nodes))));
}

fn resources_of(id: &str) -> DispatchNode {
    DispatchNode {
        id: id.into(),
        liveness: Liveness::Up,
        client: None,
        resources: NodeResources {
            node: id.into(),
            cores: 2,
            memory_bytes: 1 << 30,
            labels: Default::default(),
            gpus: vec![],
            accelerators: vec![],
        },
    }
}

fn echo_task(word: &str, dataset: Option<&str>) -> TaskSpec {
    let mut t = TaskSpec::new(vec!["echo".into(), word.into()], InputSpec::Shards { count: 2 });
    t.partitions = Some(2);
    t.dataset = dataset.map(str::to_string);
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datasets_survive_a_restart_and_can_be_replaced_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = steward(&dir).await;
        assert!(s.datasets().unwrap().is_empty());
        offline_nodes(&s, &["a:7443", "b:7443", "c:7443", "d:7443"]);
        let kept = s.register_dataset(dataset("logs", 5_000_000_000, &[" b:7443", "a:7443"])).unwrap();
        assert_eq!(kept, dataset("logs", 5_000_000_000, &["b:7443", "a:7443"]), "node ids trimmed");
        s.register_dataset(dataset("images", 7, &["c:7443"])).unwrap();
        s.register_dataset(dataset("images", 8, &["d:7443"])).unwrap();
    }
    let s = steward(&dir).await;
    assert_eq!(
        s.datasets().unwrap(),
        vec![dataset("images", 8, &["d:7443"]), dataset("logs", 5_000_000_000, &["b:7443", "a:7443"])]
    );
    s.remove_dataset("images").unwrap();
    assert!(matches!(s.remove_dataset("images"), Err(ApiError::NotFound(_))));
    drop(s);
    let s = steward(&dir).await;
    assert_eq!(s.datasets().unwrap().iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["logs"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_dataset_is_refused_naming_the_field_and_nothing_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir).await;
    offline_nodes(&s, &["a"]);
    for (bad, field) in [
        (dataset("no spaces", 1, &["a"]), "name"),
        (dataset("d", 1, &[]), "nodes"),
        (dataset("d", 1, &["a", ""]), "nodes[1]"),
        (dataset("d", 1, &["a", "10.0.0.5:7443"]), "nodes[1]"),
    ] {
        let err = s.register_dataset(bad).unwrap_err();
        let ApiError::InvalidFields(fields) = &err else { panic!("{err:?}") };
        assert_eq!(fields[0].field, field, "{err}");
    }
    assert!(s.datasets().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placement_prefers_the_node_holding_the_dataset_and_refuses_an_unknown_one() {
    let (da, db, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (agent(&da).await, agent(&db).await);
    let s = steward(&dir).await;
    s.set_dispatch_nodes(Arc::new(StaticNodes(RwLock::new(vec![node("a", &a), node("b", &b)]))));

    let unknown = s.distribute(echo_task("x", Some("logs"))).await.unwrap_err();
    let AllocError::Invalid(errors) = unknown else { panic!("{unknown:?}") };
    assert_eq!(errors[0].field, "task.dataset");
    assert!(errors[0].message.contains("no datasets are registered"), "{}", errors[0].message);

    // Without a dataset the two free nodes share the work; with one held by b (5 GB: 40 s to
    // move at 1 Gbit/s against a 0.5 s wait), both partitions go to b.
    let spread = s.distribute(echo_task("spread", None)).await.unwrap();
    let planned =
        |r: &steward_api::DistributeResult| r.assignments.iter().map(|a| a.node.clone().unwrap()).collect::<Vec<_>>();
    assert_eq!(planned(&spread), ["a", "b"]);
    s.wait_execution(&spread.execution_id, Duration::from_secs(30)).await.unwrap();

    s.register_dataset(dataset("logs", 5_000_000_000, &["b"])).unwrap();
    let local = s.distribute(echo_task("local", Some("logs"))).await.unwrap();
    assert_eq!(planned(&local), ["b", "b"]);
    let done = s.wait_execution(&local.execution_id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.status, ExecStatus::Succeeded, "{done:?}");
    assert!(done.partitions.iter().all(|p| p.node.as_deref() == Some("b")), "{done:?}");
}
