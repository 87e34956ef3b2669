//! `POST /resources/accelerators` end to end: a real `stewardd` presenting three GPUs through
//! the fake libnvidia-ml.so, added to a real `stewardctl serve`. The mapper sees the engine's
//! GPUs with their reservations, places tasks by the figures supplied for them, and the
//! placements become allocations pinned to those GPUs; bad bodies get per-field 400s.

use std::time::Duration;

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, fake_nvml_env, wait_for};

const TOKEN: &str = "accelerators-test-token-0123456789abcdef";

/// Supplied figures: gpu0 ten times as fast as gpu1 (the fake GPUs have no datasheet).
fn profile(id: &str, node: &str, tflops: f64) -> Value {
    json!({"id": id, "node": node, "name": "Fake", "memory_bytes": 24u64 << 30,
           "bandwidth_bytes_per_s": 1e12, "peak_flops": {"f16": tflops * 1e12}, "power_w": 300.0,
           "source": {"kind": "supplied"}})
}

fn task(id: &str, params: u64, steps: u64) -> Value {
    json!({"id": id, "owner": "alice", "cores": 1, "memory_bytes": 1u64 << 30,
           "workload": {"parameters": params, "precision": "f16", "batch_size": 8, "tokens_per_sample": 512, "steps": steps}})
}

#[test]
fn tasks_are_mapped_onto_the_agents_gpus_and_placed_through_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let env = fake_nvml_env(&dir.path().join("nvml"), 3).unwrap();
    let agent = Agent::start_with_env(&dir.path().join("agent"), TOKEN, &[], &env).unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let body = json!({"address": agent.address, "token": agent.token, "fingerprint": agent.fingerprint});
    let (status, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert_eq!(status, 201, "{node}");
    let id = node["id"].as_str().unwrap().to_string();
    let gpu = |i: u32| format!("{id}/gpu{i}");
    wait_for(Duration::from_secs(15), || {
        let (_, nodes) = server.get("/api/resources").ok()?;
        nodes.as_array()?.iter().any(|n| n["node"] == id.as_str()).then_some(())
    })
    .expect("the agent's GPUs never reached the allocation engine");

    // gpu2 is reserved now and for years: it must not be offered.
    let reserve = json!({"allocation_type": "reserve", "reservation_request": {
        "name": "lab", "owner": "lab", "node": id, "gpus": [gpu(2)],
        "start_time": "2020-01-01T00:00:00Z", "end_time": "2090-01-01T00:00:00Z"}});
    let (status, answer) = server.post("/resources/allocate", &reserve.to_string()).unwrap();
    assert_eq!((status, &answer["result"]["success"]), (200, &json!(true)), "{answer}");

    // Without figures, the fake GPUs are left out and say why.
    let analyze = json!({"operation": "analyze", "workload": {"parameters": 1_000_000_000u64}});
    let (status, answer) = server.post("/resources/accelerators", &analyze.to_string()).unwrap();
    assert_eq!(status, 200, "{answer}");
    let excluded = answer["result"]["excluded"].as_array().unwrap();
    let reason =
        |g: &str| excluded.iter().find(|e| e["device"] == g).map(|e| e["reason"].as_str().unwrap().to_string());
    assert!(reason(&gpu(0)).unwrap().contains("no measured or published figures"), "{answer}");
    assert!(reason(&gpu(2)).unwrap().contains("reserved by lab"), "{answer}");

    // One big task and two small ones: the big one on the fast GPU, the small ones behind it
    // or on the slow one, whichever finishes first — and never on the reserved gpu2.
    let devices = json!([profile(&gpu(0), &id, 100.0), profile(&gpu(1), &id, 10.0), profile(&gpu(2), &id, 100.0)]);
    let map = json!({"id": "map-1", "operation": "map", "place": true, "devices": devices,
        "tasks": [task("big", 1_000_000_000, 200), task("small-a", 100_000_000, 20), task("small-b", 100_000_000, 20)]});
    let (status, answer) = server.post("/resources/accelerators", &map.to_string()).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["request_id"].as_str(), answer["operation"].as_str()), (Some("map-1"), Some("map")));
    let plan = &answer["result"]["plan"];
    assert_eq!(plan["method"], "exact", "{plan}");
    let placements = plan["placements"].as_array().unwrap();
    let device_of =
        |t: &str| placements.iter().find(|p| p["task"] == t).unwrap()["device"].as_str().unwrap().to_string();
    assert_eq!(device_of("big"), gpu(0));
    assert!(placements.iter().all(|p| p["device"] != gpu(2).as_str()), "{plan}");
    assert!(placements.iter().all(|p| p["basis"].as_str().unwrap().contains("supplied")), "{plan}");
    let big = placements.iter().find(|p| p["task"] == "big").unwrap();
    assert_eq!(big["runners_up"][0]["device"], gpu(1), "the slow GPU is the runner-up: {big}");
    assert!(big["runners_up"][0]["finish_s"].as_f64().unwrap() > big["finish_s"].as_f64().unwrap());
    assert!(plan["lower_bound_s"].as_f64().unwrap() <= plan["makespan_s"].as_f64().unwrap() * (1.0 + 1e-9));

    // Placed: each task is an allocation pinned to its GPU, running or waiting behind another.
    let placed = answer["result"]["placed"].as_array().unwrap();
    assert_eq!(placed.len(), 3, "{answer}");
    let (_, allocations) = server.get("/api/allocations").unwrap();
    for p in placed {
        let a = allocations
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == p["task"])
            .unwrap_or_else(|| panic!("{p} not allocated"));
        assert_eq!(a["request"]["constraints"]["gpu"], p["device"], "{a}");
        match a["state"].as_str().unwrap() {
            "running" => assert_eq!(a["gpus"], json!([p["device"]]), "{a}"),
            "pending" => assert!(a["gpus"].as_array().unwrap().is_empty()),
            other => panic!("unexpected state {other}: {a}"),
        }
    }
    let running: Vec<&Value> = allocations.as_array().unwrap().iter().filter(|a| a["state"] == "running").collect();
    assert!(running.iter().any(|a| a["gpus"] == json!([gpu(0)])), "the big task runs on gpu0: {allocations}");

    // Advice for a named device, busy or reserved alike: f32 work on a device that lists f16
    // is told to run in f16, with the roofline it rests on. An unknown device is a 404, one
    // without figures a 409 saying so.
    let advise = |device: &str, devices: &Value| {
        json!({"operation": "advise", "device": device, "devices": devices,
               "workload": {"parameters": 1_000_000_000u64, "precision": "f32", "batch_size": 1}})
        .to_string()
    };
    let f32_too = json!([{"id": gpu(2), "node": id, "name": "Fake", "memory_bytes": 24u64 << 30,
        "bandwidth_bytes_per_s": 1e12, "peak_flops": {"f32": 10e12, "f16": 100e12}, "source": {"kind": "supplied"}}]);
    let (status, answer) = server.post("/resources/accelerators", &advise(&gpu(2), &f32_too)).unwrap();
    assert_eq!(status, 200, "{answer}");
    let advice = &answer["result"]["advice"][0];
    assert_eq!(
        (advice["kind"].as_str(), answer["result"]["device"].as_str()),
        (Some("lower_precision"), Some(gpu(2).as_str())),
        "{answer}"
    );
    assert!(advice["memory_saved_bytes"].as_i64().unwrap() == 2_000_000_000, "{advice}");
    assert!(advice["basis"].as_str().unwrap().contains("figures supplied with the request"), "{advice}");
    let (status, answer) = server.post("/resources/accelerators", &advise("nowhere/gpu9", &f32_too)).unwrap();
    assert_eq!(status, 404, "{answer}");
    let (status, answer) = server.post("/resources/accelerators", &advise(&gpu(0), &f32_too)).unwrap();
    assert_eq!(status, 409, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("no measured or published figures"), "{answer}");

    // Bad bodies: every wrong field named, never a 500.
    let (status, answer) = server
        .post("/resources/accelerators", r#"{"operation":"map","tasks":[{"id":"x","workload":{"parameters":0,"precision":"f12"}}],"policy":"cheap"}"#)
        .unwrap();
    assert_eq!(status, 400, "{answer}");
    let fields: Vec<&str> = answer["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"tasks[0].workload.precision") && fields.contains(&"policy"), "{fields:?}");
}
