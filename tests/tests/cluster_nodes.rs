//! The cluster manager against real `stewardd` processes, through a real `stewardctl serve`:
//! failure detection (frozen → down within 4 s, killed → down within 1 s, a 2 s stall never
//! down) and the security refusals (wrong/no token, other certificate, plain text to TLS), each
//! visible in what the API answers.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server};

const TOKEN: &str = "cluster-test-token-0123456789abcdef";

fn state_of(server: &Server, id: &str) -> Option<String> {
    let (_, nodes) = server.get("/api/nodes").ok()?;
    nodes.as_array()?.iter().find(|n| n["id"] == id).and_then(|n| n["state"].as_str().map(str::to_string))
}

fn add(server: &Server, agent: &Agent) -> String {
    let body = json!({"address": agent.address, "token": agent.token, "fingerprint": agent.fingerprint});
    let (status, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert_eq!(status, 201, "{node}");
    node["id"].as_str().unwrap().to_string()
}

/// Polls the node's state every 25 ms for `within`; returns when `until` was first seen and
/// every state seen before it.
fn watch(server: &Server, id: &str, until: &str, within: Duration) -> (Option<Duration>, Vec<String>) {
    let start = Instant::now();
    let mut seen: Vec<String> = Vec::new();
    while start.elapsed() < within {
        if let Some(s) = state_of(server, id) {
            if s == until {
                return (Some(start.elapsed()), seen);
            }
            if seen.last() != Some(&s) {
                seen.push(s);
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    (None, seen)
}

fn wait_up(server: &Server, id: &str) {
    let (t, seen) = watch(server, id, "up", Duration::from_secs(10));
    assert!(t.is_some(), "{id} did not come up: {seen:?}");
}

#[test]
fn frozen_agents_are_down_within_4s_killed_ones_within_1s_and_a_2s_stall_never_down() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let agents: Vec<Agent> =
        (0..3).map(|i| Agent::start(&dir.path().join(format!("a{i}")), TOKEN, &[]).unwrap()).collect();
    let ids: Vec<String> = agents.iter().map(|a| add(&server, a)).collect();
    for id in &ids {
        wait_up(&server, id);
    }
    // Let the detector learn the heartbeat rhythm.
    std::thread::sleep(Duration::from_secs(3));

    // A 2 s stall may look suspect, never down.
    agents[0].signal("STOP");
    let (down, seen) = watch(&server, &ids[0], "down", Duration::from_secs(2));
    agents[0].signal("CONT");
    assert_eq!(down, None, "a 2 s stall marked the node down (states seen: {seen:?})");
    let (down, _) = watch(&server, &ids[0], "down", Duration::from_secs(1));
    assert_eq!(down, None, "marked down just after the stall ended");
    wait_up(&server, &ids[0]);

    // Frozen: down within 4 s; back up when it resumes.
    agents[1].signal("STOP");
    let (down, seen) = watch(&server, &ids[1], "down", Duration::from_secs(6));
    agents[1].signal("CONT");
    let down = down.unwrap_or_else(|| panic!("a frozen node was not marked down (states seen: {seen:?})"));
    assert!(down <= Duration::from_secs(4), "frozen node marked down after {down:?}");
    wait_up(&server, &ids[1]);

    // Killed: the dropped connection is down within 1 s, with the reason shown.
    agents[2].signal("KILL");
    let (down, seen) = watch(&server, &ids[2], "down", Duration::from_secs(3));
    let down = down.unwrap_or_else(|| panic!("a killed node was not marked down (states seen: {seen:?})"));
    assert!(down <= Duration::from_secs(1), "killed node marked down after {down:?}");
    let (_, nodes) = server.get("/api/nodes").unwrap();
    let node = nodes.as_array().unwrap().iter().find(|n| n["id"] == ids[2].as_str()).unwrap().clone();
    assert!(node["error"].as_str().is_some_and(|e| !e.is_empty()), "{node}");
    eprintln!("killed → down in {down:?}");
}

#[test]
fn wrong_token_no_token_other_certificate_and_plain_text_are_refused_visibly() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let agent = Agent::start(&dir.path().join("a"), TOKEN, &[]).unwrap();
    let fp = agent.fingerprint.clone().unwrap();

    let refused = |body: Value, says: &str| {
        let (status, answer) = server.post("/api/nodes", &body.to_string()).unwrap();
        assert_eq!(status, 400, "{answer}");
        let error = answer["message"].as_str().unwrap_or_default();
        assert!(error.contains(says), "expected {says:?} in {error:?}");
    };
    refused(json!({"address": agent.address, "token": "not-the-token", "fingerprint": fp}), "refused the token");
    refused(json!({"address": agent.address, "token": "", "fingerprint": fp}), "token");
    refused(json!({"address": agent.address, "fingerprint": fp}), "token");
    let other = format!("sha256:{}", "ab".repeat(32));
    refused(json!({"address": agent.address, "token": TOKEN, "fingerprint": other}), "not the pinned");
    refused(json!({"address": agent.address, "token": TOKEN}), "requires TLS");
    let (_, nodes) = server.get("/api/nodes").unwrap();
    assert_eq!(nodes.as_array().unwrap().len(), 1, "a refused node was kept: {nodes}");

    // The probe shows the certificate stewardd printed, before anything is trusted.
    let (status, probe) = server.post("/api/nodes/probe", &json!({"address": agent.address}).to_string()).unwrap();
    assert_eq!((status, probe["fingerprint"].as_str()), (200, Some(fp.as_str())));
    add(&server, &agent);
    wait_up(&server, &agent.address);

    // A plain-text agent is for loopback only, and still wants its token.
    let plain = Agent::start(&dir.path().join("p"), TOKEN, &["--no-tls"]).unwrap();
    assert_eq!(plain.fingerprint, None);
    refused(json!({"address": plain.address, "token": "wrong"}), "refused the token");
    add(&server, &plain);
}
