//! Task output and endings through real processes (`stewardctl serve` + a TLS `stewardd`), as
//! issue 12 found them: one byte that is not UTF-8 used to lose the rest of the output, 529,584
//! lines ended `succeeded` with 100,000 and no word of the cut, a task with no node to run it was
//! accepted to wait forever.

use std::time::Duration;

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, wait_for};

const TOKEN: &str = "system-test-token-0123456789abcdef";

fn post_task(server: &Server, task: Value) -> (u16, Value) {
    server.post("/resources/distributed", &json!({"operation": "distribute", "task": task}).to_string()).unwrap()
}

fn wait_done(server: &Server, id: &str) -> Value {
    wait_for(Duration::from_secs(120), || {
        let (_, e) = server.get(&format!("/api/executions/{id}")).ok()?;
        matches!(e["status"].as_str(), Some("succeeded" | "failed" | "cancelled")).then_some(e)
    })
    .expect("the execution did not end")
}

fn run(server: &Server, script: &str) -> (String, Value) {
    let task = json!({"command": ["sh", "-c", script], "input": {"type": "shards", "count": 1}, "reuse": false});
    let (st, r) = post_task(server, task);
    assert_eq!(st, 200, "{r}");
    let id = r["result"]["execution_id"].as_str().unwrap().to_string();
    let done = wait_done(server, &id);
    (id, done)
}

#[test]
fn output_is_kept_whole_and_a_cut_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("cc.db")).unwrap();

    // No node yet: refused with why, not accepted to wait forever.
    let (st, r) = post_task(&server, json!({"command": ["true"], "input": {"type": "shards", "count": 1}}));
    assert_eq!(st, 409, "{r}");
    assert!(r.to_string().contains("no node accepts work"), "{r}");

    let agent = Agent::start(&dir.path().join("agent"), TOKEN, &[]).unwrap();
    let body = json!({"address": agent.address, "token": TOKEN, "fingerprint": agent.fingerprint});
    let (st, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert!(st == 200 || st == 201, "{node}");
    let up = wait_for(Duration::from_secs(20), || {
        let (_, nodes) = server.get("/api/nodes").ok()?;
        nodes.as_array()?.iter().any(|n| n["address"] == agent.address.as_str() && n["state"] == "up").then_some(())
    });
    assert!(up.is_some(), "the node did not come up");

    let (id, done) = run(&server, "echo before; printf 'x\\377y\\n'; echo after");
    assert_eq!(done["status"], "succeeded", "{done}");
    let (_, out) = server.get(&format!("/api/executions/{id}/output")).unwrap();
    assert_eq!(out, json!(["before", "x\u{fffd}y", "after"]));

    let (id, done) = run(&server, "seq 1 529584");
    assert_eq!(done["status"], "succeeded", "{done}");
    let cut = &done["partitions"][0]["output_cut"];
    assert_eq!(
        (&cut["kept_lines"], &cut["total_lines"], &cut["by"]),
        (&json!(100000), &json!(529584), &json!("lines"))
    );
    assert_eq!(cut["lost_lines"], 0);
    let (st, whole) = server.get(&format!("/api/executions/{id}/partitions/0/output")).unwrap();
    assert_eq!(st, 200);
    let whole = whole.as_str().unwrap();
    assert_eq!(whole.lines().count(), 529584);
    assert_eq!(whole.lines().last(), Some("529584"));
}
