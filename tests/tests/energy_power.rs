//! The power planner and manager end to end: a real `stewardctl serve` and a real `stewardd`
//! on the fake libnvidia-ml with a power model (two GPUs with the Zeus V100 curves of ResNet-50
//! and BERT). Plan at 15 %, apply: the agent's limits change and the journal holds both changes;
//! roll back: they are restored. Apply again and kill -9 the control center: at its next start
//! the leased changes are restored.

use std::time::Duration;

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, fake_nvml_env, wait_for};

const TOKEN: &str = "energy-power-test-token-0123456789abcdef";

/// Zeus NSDI '23 traces (V100, summary_power_v100.csv): limit W, 1e4 / epoch seconds, average W.
const RESNET50: [(u32, f64, f64); 7] = [
    (100, 1.4747, 98.38),
    (125, 1.9743, 121.97),
    (150, 2.4104, 144.59),
    (175, 2.5959, 166.37),
    (200, 2.7020, 184.94),
    (225, 2.7899, 205.44),
    (250, 2.8450, 220.25),
];
const BERT: [(u32, f64, f64); 7] = [
    (100, 2.7906, 99.48),
    (125, 3.6569, 121.83),
    (150, 4.5022, 146.42),
    (175, 5.1567, 170.59),
    (200, 5.4256, 191.18),
    (225, 5.6298, 212.62),
    (250, 5.7694, 228.22),
];

fn curve() -> String {
    let mut lines = Vec::new();
    for (gpu, points) in [(0, RESNET50), (1, BERT)] {
        lines.extend(points.iter().map(|(l, t, p)| format!("{gpu} {l} {t} {p}")));
    }
    lines.join(";")
}

fn energy(server: &Server, body: Value) -> Value {
    let (status, answer) = server.post("/resources/energy", &body.to_string()).unwrap();
    assert_eq!(status, 200, "{body} → {answer}");
    answer["result"].clone()
}

/// The power limits the agent's latest snapshot reports, by GPU index.
fn limits(server: &Server, node: &str) -> Option<Vec<f64>> {
    let (_, nodes) = server.get("/api/nodes").ok()?;
    let n = nodes.as_array()?.iter().find(|n| n["id"] == node)?;
    let gpus = n["latest"]["gpus"]["value"].as_array()?;
    gpus.iter().map(|g| g["power_limit_w"]["value"].as_f64()).collect()
}

fn wait_for_limits(server: &Server, node: &str, want: &[f64]) {
    let seen = wait_for(Duration::from_secs(15), || limits(server, node).filter(|l| l == want));
    assert!(seen.is_some(), "the agent's limits never became {want:?}: {:?}", limits(server, node));
}

#[test]
fn a_plan_is_applied_on_the_agent_rolled_back_and_restored_after_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = fake_nvml_env(&dir.path().join("nvml"), 2).unwrap();
    env.push(("FAKE_NVML_POWER_MODEL".into(), curve()));
    let agent = Agent::start_with_env(&dir.path().join("agent"), TOKEN, &[], &env).unwrap();
    let db = dir.path().join("s.db");
    let server = Server::start(&db).unwrap();
    let body = json!({"address": agent.address, "token": agent.token, "fingerprint": agent.fingerprint});
    let (status, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert_eq!(status, 201, "{node}");
    let id = node["id"].as_str().unwrap().to_string();
    wait_for_limits(&server, &id, &[250.0, 250.0]);

    let plan = energy(
        &server,
        json!({"operation": "plan", "who": "test", "plan": {"target_pct": 15, "nodes": [id], "profile_seconds": 0.4, "points": 5}}),
    );
    assert_eq!(plan["reachable"], true, "{plan}");
    let devices = plan["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{plan}");
    let chosen: Vec<f64> = devices.iter().map(|d| d["choice"]["limit_w"].as_f64().unwrap()).collect();
    for d in devices {
        let saving = d["choice"]["est_saving_pct"].as_f64().unwrap();
        assert!((15.0..25.0).contains(&saving), "{d}");
        assert!(d["profile"].as_array().unwrap().len() >= 5, "{d}");
    }
    // Profiling set each limit back.
    wait_for_limits(&server, &id, &[250.0, 250.0]);

    let plan_id = plan["id"].as_str().unwrap();
    let applied = energy(&server, json!({"operation": "apply", "apply": {"plan_id": plan_id, "measure_seconds": 0.4}}));
    wait_for_limits(&server, &id, &chosen);
    let outcome = &applied["plan"];
    assert_eq!(outcome["state"], "applied", "{applied}");
    let (estimated, measured) =
        (outcome["est_saving_pct"].as_f64().unwrap(), outcome["measured_saving_pct"].as_f64().unwrap());
    assert!((estimated - measured).abs() < 5.0, "estimate {estimated} vs measured {measured}");

    let journal = energy(&server, json!({"operation": "journal"}));
    let of_plan: Vec<&Value> =
        journal["changes"].as_array().unwrap().iter().filter(|c| c["plan_id"] == plan_id).collect();
    assert_eq!(of_plan.len(), 2, "{journal}");
    for (c, want) in of_plan.iter().rev().zip(&chosen) {
        assert_eq!((&c["state"], &c["previous"], &c["who"]), (&json!("applied"), &json!("250"), &json!("api")), "{c}");
        assert_eq!(c["new"].as_str().unwrap().parse::<f64>().unwrap(), *want);
    }

    let rolled = energy(&server, json!({"operation": "rollback", "rollback": {"plan_id": plan_id}}));
    assert!(rolled["changes"].as_array().unwrap().iter().all(|c| c["state"] == "rolled_back"), "{rolled}");
    wait_for_limits(&server, &id, &[250.0, 250.0]);

    // Applied again, then the control center dies: the next start restores the baseline.
    energy(&server, json!({"operation": "apply", "apply": {"plan_id": plan_id, "measure_seconds": 0.2}}));
    wait_for_limits(&server, &id, &chosen);
    server.kill9().unwrap();
    let server = Server::start(&db).unwrap();
    wait_for_limits(&server, &id, &[250.0, 250.0]);
    let journal = energy(&server, json!({"operation": "journal"}));
    let restored = journal["changes"].as_array().unwrap().iter().filter(|c| c["state"] == "restored").count();
    assert_eq!(restored, 2, "{journal}");
}

#[test]
fn bad_requests_are_named_and_unknown_things_are_404() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let (status, e) =
        server.post("/resources/energy", r#"{"operation":"plan","plan":{"target_pct":-3,"eta":2}}"#).unwrap();
    assert_eq!(status, 400, "{e}");
    let fields: Vec<&str> = e["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["plan.target_pct", "plan.eta", "plan"]);
    let (status, e) =
        server.post("/resources/energy", r#"{"operation":"apply","apply":{"plan_id":"plan-nope"}}"#).unwrap();
    assert_eq!(status, 404, "{e}");
    let (status, e) =
        server.post("/resources/energy", r#"{"operation":"rollback","rollback":{"change_id":99}}"#).unwrap();
    assert_eq!(status, 404, "{e}");
    let change = json!({"operation": "apply", "apply": {"change": {"node": "nowhere:1", "device": "gpu0", "knob": "gpu_power_limit", "value": "200"}}});
    let (status, e) = server.post("/resources/energy", &change.to_string()).unwrap();
    assert_eq!(status, 404, "{e}");
}

#[test]
fn without_permission_the_answer_is_what_it_would_do_and_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = fake_nvml_env(&dir.path().join("nvml"), 1).unwrap();
    env.push(("FAKE_NVML_POWER_MODEL".into(), curve()));
    env.push(("FAKE_NVML_NO_PERMISSION".into(), "1".into()));
    let agent = Agent::start_with_env(&dir.path().join("agent"), TOKEN, &[], &env).unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let body = json!({"address": agent.address, "token": agent.token, "fingerprint": agent.fingerprint});
    let (status, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert_eq!(status, 201, "{node}");
    let id = node["id"].as_str().unwrap().to_string();
    wait_for_limits(&server, &id, &[250.0]);

    let change = json!({"node": id, "device": "gpu0", "knob": "gpu_power_limit", "value": "200"});
    let dry = energy(&server, json!({"operation": "apply", "apply": {"change": change, "dry_run": true}}));
    assert_eq!(dry["changes"], json!([]), "a dry run journals nothing: {dry}");
    let said = dry["dry_run"][0].as_str().unwrap();
    assert!(said.contains("would set gpu0's power limit to 200 W") && said.contains("NO_PERMISSION"), "{said}");

    let denied = energy(&server, json!({"operation": "apply", "apply": {"change": change}}));
    let row = &denied["changes"][0];
    assert_eq!(
        (&row["state"], &row["previous"], &row["new"]),
        (&json!("denied"), &json!("250"), &json!("200")),
        "{denied}"
    );
    assert!(row["detail"].as_str().unwrap().starts_with("would set gpu0's power limit to 200 W; cannot:"), "{row}");

    let plan = energy(
        &server,
        json!({"operation": "plan", "plan": {"target_pct": 15, "nodes": [id], "profile_seconds": 0.2}}),
    );
    assert_eq!(plan["devices"], json!([]), "{plan}");
    assert!(plan["skipped"][0]["reason"].as_str().unwrap().contains("NO_PERMISSION"), "{plan}");
    assert_eq!(plan["reachable"], false);
    assert_eq!(limits(&server, &id), Some(vec![250.0]));
}
