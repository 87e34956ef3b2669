//! The energy monitor across real processes: a `stewardd` on the fake libnvidia-ml.so, added to
//! a real `stewardctl serve`; `POST /resources/energy` (`monitor`) shows the agent's GPU watts
//! and joules as measured by NVML, history sums its interval joules, and bad input is a 400.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, binary, fake_nvml_env, wait_for};

const TOKEN: &str = "energy-monitor-test-token-0123456789abcdef";

fn monitor(server: &Server) -> Value {
    let (status, answer) = server.post("/resources/energy", r#"{"id":"e1","operation":"monitor"}"#).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!((&answer["request_id"], &answer["operation"]), (&json!("e1"), &json!("monitor")), "{answer}");
    answer["result"].clone()
}

#[test]
fn a_remote_gpus_watts_and_joules_are_measured_with_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let env = fake_nvml_env(&dir.path().join("nvml"), 2).unwrap();
    let agent = Agent::start_with_env(&dir.path().join("agent"), TOKEN, &[], &env).unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let body = json!({"address": agent.address, "token": agent.token, "fingerprint": agent.fingerprint});
    let (status, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert_eq!(status, 201, "{node}");
    let id = node["id"].as_str().unwrap().to_string();

    // The GPU's joules advance between snapshots (the fake's counter integrates 100.5 W).
    let gpu0 = |m: &Value| -> Option<Value> {
        let n = m["nodes"].as_array()?.iter().find(|n| n["node"] == id.as_str())?;
        let s = n["energy"]["value"]["sources"].as_array()?.iter().find(|s| s["id"] == "gpu.0")?;
        (s["energy_j"].as_f64()? > 50.0).then(|| s.clone())
    };
    let g = wait_for(Duration::from_secs(20), || gpu0(&monitor(&server)))
        .unwrap_or_else(|| panic!("no GPU energy from {id}: {}", monitor(&server)));
    assert_eq!(g["power_w"], json!({"status": "available", "value": 100.5}), "{g}");
    assert_eq!(g["provenance"], json!({"kind": "measured", "meter": "NVML"}), "{g}");
    assert_eq!(g["in_total"], true);

    // History holds per-interval joules: today's total for the GPU grows and is about 100.5 W × time.
    let total = |m: &Value| -> Option<f64> {
        m["totals"].as_array()?.iter().find(|t| t["node"] == id.as_str() && t["source"] == "gpu.0")?["today_j"].as_f64()
    };
    let j = wait_for(Duration::from_secs(30), || total(&monitor(&server)).filter(|j| *j > 300.0))
        .unwrap_or_else(|| panic!("no recorded GPU energy: {}", monitor(&server)));
    let m = monitor(&server);
    let provenance = &m["totals"].as_array().unwrap().iter().find(|t| t["source"] == "gpu.0").unwrap()["provenance"];
    assert_eq!(provenance, "measured");
    assert!(j < 100.5 * 120.0, "more than two minutes of 100.5 W: {j}");

    // The CLI says the same, provenance included.
    let out = Command::new(binary("stewardctl"))
        .args(["energy", "status", "--url", &server.url])
        .env("STEWARD_TOKEN", &server.token)
        .output()
        .unwrap();
    let cli = String::from_utf8_lossy(&out.stdout);
    assert!(cli.contains("gpu.0") && cli.contains("100.5 W") && cli.contains("measured, NVML"), "{cli}");

    // The exported report draws the GPU's power line and its energy today.
    let svg_path = dir.path().join("report.svg");
    let out = Command::new(binary("stewardctl"))
        .args(["energy", "report", "--url", &server.url, "--out"])
        .arg(&svg_path)
        .env("STEWARD_TOKEN", &server.token)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains(&format!("{id} / gpu.0 (measured)")), "{svg}");

    // Bad input: named field, 400; an unknown node: 404.
    let (status, err) = server.post("/resources/energy", r#"{"operation":"guess"}"#).unwrap();
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("operation"), "{err}");
    let (status, err) = server.post("/resources/energy", r#"{"operation":"monitor","node":"nowhere"}"#).unwrap();
    assert_eq!(status, 404, "{err}");
}
