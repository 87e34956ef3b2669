//! Distributed execution across real `stewardd` processes on loopback ports, driven through a
//! real `stewardctl serve`: an agent SIGKILLed while it runs a partition, another SIGSTOPped for
//! 10 s (declared down, its late results discarded), and a control center killed and restarted
//! mid-execution. Every item of the job leaves one line; the output must hold each exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, wait_for};

const TOKEN: &str = "system-test-token-0123456789abcdef";

/// A TLS `stewardd` on a free loopback port with the test token.
fn agent(state: &std::path::Path) -> Agent {
    Agent::start(state, TOKEN, &[]).unwrap()
}

/// Adds every agent as a node; returns node id → agent index.
fn add_nodes(server: &Server, agents: &[Agent]) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for (i, a) in agents.iter().enumerate() {
        let body = json!({"address": a.address, "token": TOKEN, "fingerprint": a.fingerprint});
        let (st, node) = server.post("/api/nodes", &body.to_string()).unwrap();
        assert!(st == 200 || st == 201, "{node}");
        ids.insert(node["id"].as_str().unwrap().to_string(), i);
    }
    let up = wait_for(Duration::from_secs(20), || {
        let (_, nodes) = server.get("/api/nodes").ok()?;
        let n = nodes
            .as_array()?
            .iter()
            .filter(|n| ids.contains_key(n["id"].as_str().unwrap_or("")) && n["state"] == "up")
            .count();
        (n == agents.len()).then_some(())
    });
    assert!(up.is_some(), "nodes did not come up");
    ids
}

fn distribute(server: &Server, task: Value) -> String {
    let (st, r) =
        server.post("/resources/distributed", &json!({"operation": "distribute", "task": task}).to_string()).unwrap();
    assert_eq!(st, 200, "{r}");
    r["result"]["execution_id"].as_str().unwrap().to_string()
}

fn execution(server: &Server, id: &str) -> Value {
    server.get(&format!("/api/executions/{id}")).unwrap().1
}

fn wait_done(server: &Server, id: &str, timeout: Duration) -> Value {
    wait_for(timeout, || {
        let e = execution(server, id);
        matches!(e["status"].as_str(), Some("succeeded" | "failed" | "cancelled")).then_some(e)
    })
    .unwrap_or_else(|| panic!("execution did not end: {}", execution(server, id)))
}

/// A node that runs a partition of `id` now, other than `not`.
fn node_running(server: &Server, id: &str, not: &[String]) -> String {
    wait_for(Duration::from_secs(30), || {
        let e = execution(server, id);
        e["partitions"].as_array()?.iter().find_map(|p| {
            let node = p["node"].as_str()?;
            // Output lines show the process really runs there (not just that it was sent).
            let started = p["log_tail"].as_array().is_some_and(|l| !l.is_empty());
            (p["state"] == "running" && started && !not.iter().any(|n| n == node)).then(|| node.to_string())
        })
    })
    .expect("no partition running")
}

/// Each item sleeps, then prints `item <i>`.
fn slow_items(items: u64, per_item_s: &str) -> Value {
    json!({
        "command": ["sh", "-c", format!("i={{start}}; while [ $i -lt {{end}} ]; do sleep {per_item_s}; echo item $i; i=$((i+1)); done")],
        "input": {"type": "range", "start": 0, "end": items},
        "reuse": false,
        "max_attempts": 10
    })
}

fn assert_every_item_once(server: &Server, id: &str, items: u64) {
    let (_, out) = server.get(&format!("/api/executions/{id}/output")).unwrap();
    let want: Vec<Value> = (0..items).map(|i| Value::from(format!("item {i}"))).collect();
    assert_eq!(out.as_array().unwrap(), &want, "every item exactly once, in order");
}

#[test]
fn killed_and_frozen_agents_lose_their_partitions_and_every_item_lands_once() {
    let dir = tempfile::tempdir().unwrap();
    let agents: Vec<Agent> = (0..4).map(|i| agent(&dir.path().join(format!("agent{i}")))).collect();
    let server = Server::start(&dir.path().join("cc.db")).unwrap();
    let ids = add_nodes(&server, &agents);
    let items = 1600;
    let exec = distribute(&server, slow_items(items, "0.05"));

    let killed = node_running(&server, &exec, &[]);
    agents[ids[&killed]].signal("KILL");
    let frozen = node_running(&server, &exec, std::slice::from_ref(&killed));
    let frozen_agent = &agents[ids[&frozen]];
    frozen_agent.signal("STOP");
    std::thread::sleep(Duration::from_secs(10));
    frozen_agent.signal("CONT");

    let done = wait_done(&server, &exec, Duration::from_secs(180));
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_every_item_once(&server, &exec, items);
    let parts = done["partitions"].as_array().unwrap();
    let tries = |p: &Value| p["tries"].as_array().unwrap().clone();
    let brief: Vec<String> = parts
        .iter()
        .map(|p| {
            format!(
                "{}:{}:{:?}",
                p["index"],
                p["error"],
                tries(p).iter().map(|t| format!("{}={}", t["node"], t["state"])).collect::<Vec<_>>()
            )
        })
        .collect();
    eprintln!("killed {killed}, frozen {frozen}\n{}", brief.join("\n"));
    // The killed node's partitions ran again elsewhere.
    let lost_on_killed: Vec<&Value> = parts
        .iter()
        .filter(|p| tries(p).iter().any(|t| t["node"] == killed.as_str() && t["state"] == "lost"))
        .collect();
    assert!(!lost_on_killed.is_empty(), "the killed node lost its running partition");
    for p in &lost_on_killed {
        let winner = tries(p).into_iter().find(|t| t["state"] == "succeeded").unwrap();
        assert_ne!(winner["node"], killed.as_str());
    }
    // The frozen node was declared down: its attempts were lost, none of them won.
    let lost_on_frozen: Vec<&Value> = parts
        .iter()
        .filter(|p| tries(p).iter().any(|t| t["node"] == frozen.as_str() && t["state"] == "lost"))
        .collect();
    assert!(!lost_on_frozen.is_empty(), "the frozen node was declared down");
    for p in &lost_on_frozen {
        let winner = tries(p).into_iter().find(|t| t["state"] == "succeeded").unwrap();
        assert!(
            winner["node"] != frozen.as_str()
                || tries(p).iter().position(|t| t["state"] == "succeeded")
                    > tries(p).iter().position(|t| t["state"] == "lost")
        );
    }
    let (_, m) = server
        .post("/resources/distributed", &json!({"operation": "monitor", "execution_id": exec}).to_string())
        .unwrap();
    let report = &m["result"]["report"];
    assert!(report["retries"].as_u64().unwrap() >= 2, "{report}");
    eprintln!("report: {report}");
}

#[test]
fn a_restarted_control_center_reattaches_instead_of_starting_partitions_again() {
    let dir = tempfile::tempdir().unwrap();
    let agents: Vec<Agent> = (0..3).map(|i| agent(&dir.path().join(format!("agent{i}")))).collect();
    let db = dir.path().join("cc.db");
    let server = Server::start(&db).unwrap();
    add_nodes(&server, &agents);
    let starts = dir.path().join("starts");
    std::fs::create_dir(&starts).unwrap();
    // Each partition notes every start of itself, then works for a few seconds.
    let task = json!({
        "command": ["sh", "-c", format!("echo started >> {}/p{{partition}}; echo started >&2; sleep 3; i={{start}}; while [ $i -lt {{end}} ]; do echo item $i; i=$((i+1)); done", starts.display())],
        "input": {"type": "range", "start": 0, "end": 120},
        "partitions": 12,
        "reuse": false
    });
    let exec = distribute(&server, task);
    node_running(&server, &exec, &[]);
    std::thread::sleep(Duration::from_millis(500));
    let before = execution(&server, &exec);
    let running = before["partitions"].as_array().unwrap().iter().filter(|p| p["state"] == "running").count();
    assert!(running > 0);
    server.kill9().unwrap();

    let server = wait_for(Duration::from_secs(20), || Server::start(&db).ok()).expect("restart");
    let done = wait_done(&server, &exec, Duration::from_secs(120));
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_every_item_once(&server, &exec, 120);
    for i in 0..12 {
        let n = std::fs::read_to_string(starts.join(format!("p{i}"))).unwrap().lines().count();
        assert_eq!(n, 1, "partition {i} was started {n} times");
    }
    for p in done["partitions"].as_array().unwrap() {
        assert_eq!(p["attempts"], 1, "{p}");
    }
}
