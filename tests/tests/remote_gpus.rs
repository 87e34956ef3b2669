//! Remote nodes in the allocation engine: a real `stewardd` presenting GPUs through the fake
//! libnvidia-ml.so, added to a real `stewardctl serve`, appears in `GET /api/resources` with its
//! GPUs and MIG instances (the calendar's rows), and allocations constrained to it get a whole
//! GPU, a share of one and a MIG instance.

use std::time::Duration;

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, fake_nvml_env, wait_for};

const TOKEN: &str = "remote-gpus-test-token-0123456789abcdef";

#[test]
fn a_remote_agents_gpus_and_mig_instances_are_listed_and_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = fake_nvml_env(&dir.path().join("nvml"), 3).unwrap();
    env.push(("FAKE_NVML_MIG_GPU".into(), "2".into()));
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
        .map(|g| {
            (
                g["id"].as_str().unwrap().to_string(),
                g["memory_bytes"].as_u64().unwrap(),
                g["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, u64, String)> =
        (0..3).map(|i| (format!("{id}/gpu{i}"), 24u64 << 30, format!("Fake NVIDIA GPU {i}"))).collect();
    assert_eq!(gpus, expected);
    assert_eq!(remote["gpus"][0]["mig"], json!([]));
    let instance = |k: u32, profile: &str, mib: u64| json!({"id": format!("{id}/gpu2/mig{k}"), "profile": profile, "memory_bytes": mib << 20});
    assert_eq!(
        remote["gpus"][2]["mig"],
        json!([instance(0, "1g.6gb", 5952), instance(1, "1g.6gb", 5952), instance(3, "2g.12gb", 11968)])
    );
    assert_eq!(remote["labels"], json!({"rack": "r1"}));
    assert!(remote["cores"].as_u64().unwrap() > 0, "{remote}");

    let allocate = |rid: &str, resources: Value, mig: Option<&str>| {
        let req = json!({"allocation_type": "allocate", "allocation_request": {
            "id": rid, "owner": "alice", "resources": resources, "constraints": {"node": id, "mig_profile": mig}, "queue": false}});
        let (status, answer) = server.post("/resources/allocate", &req.to_string()).unwrap();
        assert_eq!(status, 200, "{answer}");
        answer["result"].clone()
    };
    // A whole GPU, a share of another by memory, a MIG instance by profile.
    let whole = allocate("whole", json!({"gpus": 1}), None);
    assert_eq!((&whole["success"], &whole["allocated_resources"]["node"]), (&json!(true), &json!(id)), "{whole}");
    assert_eq!(whole["allocated_resources"]["gpus"], json!([format!("{id}/gpu0")]));
    let share = allocate("share", json!({"gpus": 1, "gpu_memory_bytes": 8u64 << 30}), None);
    assert_eq!(share["allocated_resources"]["gpus"], json!([format!("{id}/gpu1")]), "{share}");
    let mig = allocate("mig", json!({"gpus": 1}), Some("2g.12gb"));
    assert_eq!(mig["allocated_resources"]["gpus"], json!([format!("{id}/gpu2/mig3")]), "{mig}");
    // No whole GPU is left: gpu1 holds a share and gpu2 is in MIG mode.
    let more = allocate("more", json!({"gpus": 1}), None);
    assert_eq!(more["success"], false, "{more}");
}
