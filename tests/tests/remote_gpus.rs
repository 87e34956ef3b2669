//! Remote nodes in the allocation engine: a real `stewardd` presenting GPUs through the fake
//! libnvidia-ml.so, added to a real `stewardctl serve`, appears in `GET /api/resources` with its
//! GPUs (as the calendar's rows) and an allocation constrained to it gets its GPUs.

use std::time::Duration;

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, fake_nvml_env, wait_for};

const TOKEN: &str = "remote-gpus-test-token-0123456789abcdef";

#[test]
fn a_remote_agents_gpus_are_listed_and_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let env = fake_nvml_env(&dir.path().join("nvml"), 3).unwrap();
    let agent = Agent::start_with_env(&dir.path().join("agent"), TOKEN, &["--label", "rack=r1"], &env).unwrap();
    // The control center itself has no GPUs: whatever GPUs it lists are the agent's.
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let body = json!({"address": agent.address, "token": agent.token, "fingerprint": agent.fingerprint});
    let (status, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert_eq!(status, 201, "{node}");
    let id = node["id"].as_str().unwrap().to_string();

    let remote = wait_for(Duration::from_secs(15), || {
        let (_, nodes) = server.get("/api/resources").ok()?;
        nodes.as_array()?.iter().find(|n| n["node"] == id.as_str()).cloned()
    })
    .unwrap_or_else(|| panic!("{id} never appeared in /api/resources: {:?}", server.get("/api/resources")));
    let gpus: Vec<(String, u64, String)> = remote["gpus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["id"].as_str().unwrap().to_string(), g["memory_bytes"].as_u64().unwrap(), g["name"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, u64, String)> = (0..3).map(|i| (format!("{id}/gpu{i}"), 24u64 << 30, format!("Fake NVIDIA GPU {i}"))).collect();
    assert_eq!(gpus, expected);
    assert_eq!(remote["labels"], json!({"rack": "r1"}));
    assert!(remote["cores"].as_u64().unwrap() > 0, "{remote}");

    // Two whole GPUs on that node, then a share of the third by memory.
    let allocate = |rid: &str, resources: Value| {
        let req = json!({"allocation_type": "allocate", "allocation_request": {
            "id": rid, "owner": "alice", "resources": resources, "constraints": {"node": id}, "queue": false}});
        let (status, answer) = server.post("/resources/allocate", &req.to_string()).unwrap();
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["result"]["success"], true, "{answer}");
        answer["result"]["allocated_resources"].clone()
    };
    let whole = allocate("whole", json!({"gpus": 2, "cores": 1}));
    assert_eq!(whole["node"], id.as_str());
    assert_eq!(whole["gpus"], json!([format!("{id}/gpu0"), format!("{id}/gpu1")]));
    let share = allocate("share", json!({"gpus": 1, "gpu_memory_bytes": 8u64 << 30, "cores": 1}));
    assert_eq!(share["gpus"], json!([format!("{id}/gpu2")]));
    // The node's three GPUs are taken (two whole, the third too full for another 20 GiB).
    let req = json!({"allocation_type": "allocate", "allocation_request": {
        "id": "more", "owner": "bob", "resources": {"gpus": 1, "gpu_memory_bytes": 20u64 << 30}, "constraints": {"node": id}, "queue": false}});
    let (_, answer) = server.post("/resources/allocate", &req.to_string()).unwrap();
    assert_eq!(answer["result"]["success"], false, "{answer}");
}
