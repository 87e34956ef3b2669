//! A remote node's lifecycle in the allocation engine: a real `stewardd` (fake NVML GPUs) added
//! to a real `stewardctl serve` runs two allocations; killed with SIGKILL, its node goes down,
//! takes no new allocation, and after the down grace its allocations are given up with the
//! reason in the event log: requeued (mode requeue) or lost (mode cancel).

use std::time::Duration;

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, fake_nvml_env, wait_for};

const TOKEN: &str = "remote-node-down-test-token-0123456789ab";

#[test]
fn a_killed_agents_node_takes_no_allocation_and_its_allocations_are_requeued_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let env = fake_nvml_env(&dir.path().join("nvml"), 2).unwrap();
    let agent = Agent::start_with_env(&dir.path().join("agent"), TOKEN, &[], &env).unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let body = json!({"address": agent.address, "token": agent.token, "fingerprint": agent.fingerprint});
    let (status, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert_eq!(status, 201, "{node}");
    let id = node["id"].as_str().unwrap().to_string();
    wait_for(Duration::from_secs(15), || {
        let (_, nodes) = server.get("/api/resources").ok()?;
        nodes.as_array()?.iter().any(|n| n["node"] == id.as_str()).then_some(())
    })
    .unwrap_or_else(|| panic!("{id} never appeared in /api/resources"));

    let allocate = |rid: &str, mode: &str| -> Value {
        let req = json!({"allocation_type": "allocate", "allocation_request": {
            "id": rid, "owner": "alice", "resources": {"gpus": 1}, "constraints": {"node": id},
            "preemption": {"mode": mode}, "queue": false}});
        let (status, answer) = server.post("/resources/allocate", &req.to_string()).unwrap();
        assert_eq!(status, 200, "{answer}");
        answer["result"].clone()
    };
    for (rid, mode) in [("requeue-me", "requeue"), ("lose-me", "cancel")] {
        let a = allocate(rid, mode);
        assert_eq!((&a["success"], &a["allocated_resources"]["node"]), (&json!(true), &json!(id)), "{a}");
    }

    agent.signal("KILL");
    wait_for(Duration::from_secs(10), || {
        let (_, nodes) = server.get("/api/nodes").ok()?;
        nodes.as_array()?.iter().any(|n| n["id"] == id.as_str() && n["state"] == "down").then_some(())
    })
    .expect("the killed agent's node never went down");
    // A down node takes no new allocation (its idle GPUs are not offered).
    let refused = wait_for(Duration::from_secs(5), || {
        let a = allocate(&format!("late-{}", std::process::id()), "requeue");
        (a["success"] == false).then_some(a)
    });
    assert!(refused.is_some(), "an allocation was granted on a down node");

    // Within the grace (30 s) the two keep running; after it they are given up.
    let state = |rid: &str| -> Option<(String, String)> {
        let (_, list) = server.get("/api/allocations").ok()?;
        let a = list.as_array()?.iter().find(|a| a["id"] == rid)?.clone();
        Some((a["state"].as_str()?.to_string(), a["pending_reason"].as_str().unwrap_or("").to_string()))
    };
    assert_eq!(state("requeue-me").unwrap().0, "running");
    let ended = wait_for(Duration::from_secs(60), || {
        let (a, b) = (state("requeue-me")?, state("lose-me")?);
        (a.0 != "running" && b.0 != "running").then_some((a, b))
    })
    .expect("the down node's allocations were never given up");
    assert_eq!(ended.0.0, "pending", "{ended:?}");
    assert_eq!(ended.1, ("cancelled".to_string(), format!("lost: node {id} is down")));
    let (_, events) = server.get("/api/events?limit=100").unwrap();
    let events = events.as_array().unwrap();
    let has = |kind: &str, subject: &str, message: &str| {
        events.iter().any(|e| e["kind"] == kind && e["subject"] == subject && e["message"] == message)
    };
    assert!(has("requeued", "requeue-me", &format!("requeued: node {id} is down")), "{events:?}");
    assert!(has("lost", "lose-me", &format!("lost: node {id} is down")), "{events:?}");
    assert!(events.iter().any(|e| e["kind"] == "node" && e["subject"] == id.as_str()), "{events:?}");
}
