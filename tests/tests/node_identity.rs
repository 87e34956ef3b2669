//! One agent is one node: the same `stewardd` added again under another address of the same
//! machine (`127.0.0.1:P`, then `localhost:P`) is refused naming the node it already is, so its
//! cores are counted once; fingerprints are stored in one form whatever the spelling typed, and
//! malformed ones are refused saying what one looks like.

use std::time::Duration;

use serde_json::json;
use steward_system_tests::{Agent, Server, wait_for};

const TOKEN: &str = "node-identity-test-token-0123456789abcdef";

fn resources_nodes(server: &Server) -> Vec<String> {
    let (_, res) = server.get("/api/resources").unwrap();
    res.as_array().unwrap().iter().map(|n| n["node"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn the_same_agent_under_another_address_is_refused_and_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let agent = Agent::start(&dir.path().join("a"), TOKEN, &[]).unwrap();
    let fp = agent.fingerprint.clone().unwrap();
    let hex = fp.trim_start_matches("sha256:").to_uppercase();
    let colons: Vec<&str> = (0..32).map(|i| &hex[2 * i..2 * i + 2]).collect();

    // Malformed fingerprints are refused with what a good one looks like.
    let (status, answer) = server
        .post(
            "/api/nodes",
            &json!({"address": agent.address, "token": TOKEN, "fingerprint": "sha256:1234"}).to_string(),
        )
        .unwrap();
    assert_eq!(status, 400, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("64 hex digits"), "{answer}");

    // Any spelling of the right one is accepted and kept in the canonical form.
    let typed = format!("shA256:{}", colons.join(":"));
    let (status, node) = server
        .post("/api/nodes", &json!({"address": agent.address, "token": TOKEN, "fingerprint": typed}).to_string())
        .unwrap();
    assert_eq!(status, 201, "{node}");
    assert_eq!(node["fingerprint"].as_str(), Some(fp.as_str()));
    let before = wait_for(Duration::from_secs(10), || {
        let nodes = resources_nodes(&server);
        (nodes.len() == 2).then_some(nodes)
    })
    .expect("the agent's resources never joined");

    // The same agent under another name of this machine: refused, naming the node it is.
    let port = agent.address.rsplit_once(':').unwrap().1;
    let again = format!("localhost:{port}");
    let (status, answer) =
        server.post("/api/nodes", &json!({"address": again, "token": TOKEN, "fingerprint": fp}).to_string()).unwrap();
    assert_eq!(status, 400, "{answer}");
    let error = answer["message"].as_str().unwrap();
    assert!(error.contains(&format!("already in the cluster as node {}", agent.address)), "{error}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(resources_nodes(&server), before, "the agent's cores are counted once");
    let (_, nodes) = server.get("/api/nodes").unwrap();
    assert_eq!(nodes.as_array().unwrap().len(), 2, "{nodes}");
}

#[test]
fn a_plain_text_agent_is_known_by_its_node_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let agent = Agent::start(&dir.path().join("p"), TOKEN, &["--no-tls"]).unwrap();
    let (status, node) =
        server.post("/api/nodes", &json!({"address": agent.address, "token": TOKEN}).to_string()).unwrap();
    assert_eq!(status, 201, "{node}");
    let port = agent.address.rsplit_once(':').unwrap().1;
    let (status, answer) = server
        .post("/api/nodes", &json!({"address": format!("localhost:{port}"), "token": TOKEN}).to_string())
        .unwrap();
    assert_eq!(status, 400, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains(&agent.address), "{answer}");
}
