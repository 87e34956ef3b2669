//! Modules registered through the module API, as real processes: `steward-example-module`s
//! against a real `stewardctl serve` (its module socket) and against a real `stewardd` added to
//! it. A module registers and shows its goodput, follows a directive and acknowledges it, is
//! lost when killed (three silent intervals), deregisters on SIGTERM; a module on an agent shows
//! up in the control center within 2 s and is lost when the agent is killed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, binary, wait_for};

const AGENT_TOKEN: &str = "registered-modules-test-token-0123456789";

/// A running `steward-example-module`; its stdout lines arrive on `lines`. Killed when dropped.
struct Module {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Module {
    fn start(role: &str, socket: &Path, token_file: &Path) -> Module {
        let mut child = Command::new(binary("steward-example-module"))
            .args(["--role", role, "--report-ms", "300", "--scale-mib", "8", "--socket"])
            .arg(socket)
            .arg("--token-file")
            .arg(token_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).for_each(|l| drop(tx.send(l))));
        Module { child, lines }
    }

    /// The first line starting with `prefix`, within `timeout`.
    fn line(&self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => {}
                Err(_) => panic!("the module never printed {prefix:?}"),
            }
        }
    }

    fn signal(&self, sig: &str) {
        Command::new("kill").arg(format!("-{sig}")).arg(self.child.id().to_string()).status().unwrap();
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The registered module `name` on `node`, once `ok` holds for it.
fn module_where(server: &Server, node: &str, name: &str, timeout: Duration, ok: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    wait_for(timeout, || {
        let (_, list) = server.get("/api/registered-modules").ok()?;
        last = list.as_array()?.iter().find(|m| m["node"] == node && m["registration"]["name"] == name)?.clone();
        ok(&last).then(|| last.clone())
    })
    .unwrap_or_else(|| panic!("{name} on {node} never got there; last seen: {last}"))
}

fn direct(server: &Server, node: &str, name: &str, directive: Value) -> (u16, Value) {
    let body = json!({"directive": directive, "reason": "system test"}).to_string();
    server.post(&format!("/api/registered-modules/{node}/{name}/directives"), &body).unwrap()
}

#[test]
fn a_module_registers_with_serve_follows_a_directive_is_lost_when_killed_and_deregisters_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("modules.sock");
    let server =
        Server::start_with(&dir.path().join("s.db"), &["--module-socket".as_ref(), socket.as_os_str()]).unwrap();
    let mode = std::fs::metadata(&socket).map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()));
    assert_eq!(mode.unwrap() & 0o777, 0o600, "the module socket is private");

    let learner = Module::start("learning", &socket, &server.token_file);
    learner.line("registered learning on node local", Duration::from_secs(10));
    let m =
        module_where(&server, "local", "learning", Duration::from_secs(5), |m| m["goodput_per_s"].as_f64() > Some(0.0));
    assert_eq!((&m["state"], &m["registration"]["criticality"]), (&json!("active"), &json!("sheddable")), "{m}");
    assert!(m["report"]["memory_bytes"].as_u64() > Some(0), "real usage is reported: {m}");

    // Paused, it trains nothing: its goodput falls to zero, measured, not assumed.
    let (status, order) = direct(&server, "local", "learning", json!({"kind": "pause"}));
    assert_eq!(status, 200, "{order}");
    let acked = module_where(&server, "local", "learning", Duration::from_secs(5), |m| {
        m["directives"][0]["ack"]["outcome"] == "applied"
    });
    assert_eq!(acked["directives"][0]["order"]["id"], order["id"]);
    module_where(&server, "local", "learning", Duration::from_secs(5), |m| m["goodput_per_s"] == json!(0.0));
    let (status, refused) = direct(&server, "local", "learning", json!({"kind": "set_quality", "level": 9}));
    assert_eq!(status, 400, "{refused}");
    let (status, missing) = direct(&server, "local", "nobody", json!({"kind": "pause"}));
    assert_eq!(status, 404, "{missing}");

    learner.signal("KILL");
    let lost = module_where(&server, "local", "learning", Duration::from_secs(5), |m| m["state"] == "lost");
    assert_eq!(lost["lost_reason"], "no report for 3 intervals (900 ms)");

    let seer = Module::start("perception", &socket, &server.token_file);
    seer.line("registered perception", Duration::from_secs(10));
    let (_, order) = direct(&server, "local", "perception", json!({"kind": "pause"}));
    let refused = module_where(&server, "local", "perception", Duration::from_secs(5), |m| {
        m["directives"][0]["ack"]["outcome"] == "refused"
    });
    assert_eq!(refused["directives"][0]["order"]["id"], order["id"], "the critical module refuses a pause");
    seer.signal("TERM");
    module_where(&server, "local", "perception", Duration::from_secs(5), |m| m["state"] == "deregistered");
}

#[test]
fn a_module_on_an_agent_reaches_the_control_center_within_2_s_and_is_lost_when_the_agent_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("agent");
    let agent = Agent::start(&state, AGENT_TOKEN, &[]).unwrap();
    let server = Server::start_with(
        &dir.path().join("s.db"),
        &["--module-socket".as_ref(), dir.path().join("cc.sock").as_os_str()],
    )
    .unwrap();
    let body = json!({"address": agent.address, "token": agent.token, "fingerprint": agent.fingerprint});
    let (status, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert_eq!(status, 201, "{node}");
    let node = node["id"].as_str().unwrap().to_string();

    let token_file = dir.path().join("agent-token");
    std::fs::write(&token_file, AGENT_TOKEN).unwrap();
    let memory = Module::start("memory", &state.join("modules.sock"), &token_file);
    memory.line("registered memory on node ", Duration::from_secs(10));
    let registered = Instant::now();
    module_where(&server, &node, "memory", Duration::from_secs(2), |m| m["state"] == "active");
    let took = registered.elapsed();
    assert!(took <= Duration::from_secs(2), "appeared after {took:?}");
    module_where(&server, &node, "memory", Duration::from_secs(5), |m| m["report"]["memory_bytes"].as_u64() > Some(0));

    // A directive travels control center → agent → module, and its ack back.
    let (status, order) = direct(&server, &node, "memory", json!({"kind": "set_quality", "level": 2}));
    assert_eq!(status, 200, "{order}");
    let m = module_where(&server, &node, "memory", Duration::from_secs(5), |m| {
        m["directives"][0]["ack"]["outcome"] == "applied" && m["report"]["quality_level"] == 2
    });
    assert_eq!(m["directives"][0]["order"]["directive"], json!({"kind": "set_quality", "level": 2}));

    agent.signal("KILL");
    let lost = module_where(&server, &node, "memory", Duration::from_secs(5), |m| m["state"] == "lost");
    assert!(lost["lost_reason"].as_str().unwrap().contains(&node), "{lost}");
}
