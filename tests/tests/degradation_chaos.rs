//! Graceful degradation under a real memory hog: the four example modules (one of them on a
//! real `stewardd`) under a real `stewardctl serve` whose memory budget (400 MiB of the modules'
//! and the hog's RSS) the hog — a process allocating and touching memory — drives through the
//! tiers. The modules are shed in rank order, the critical one keeps full quality, everything
//! is given back within two check intervals after the hog exits, no step is taken twice (no
//! flapping), and killing the agent marks its module lost.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, binary, wait_for};

const AGENT_TOKEN: &str = "degradation-chaos-test-token-0123456789";
const CHECK_S: u64 = 4;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn module(role: &str, name: &str, socket: &Path, token_file: &Path) -> Proc {
    let mut child = Command::new(binary("steward-example-module"))
        .args(["--role", role, "--name", name, "--report-ms", "1000", "--scale-mib", "4", "--socket"])
        .arg(socket)
        .arg("--token-file")
        .arg(token_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("registered"), "{name}: {first}");
    // It prints a line per directive: keep reading, or it dies of a broken pipe.
    std::thread::spawn(move || out.lines().map_while(Result::ok).for_each(drop));
    Proc(child)
}

/// Allocates and touches 24 MiB every 300 ms up to `mib`, then holds it.
fn hog(mib: u32) -> Proc {
    let code = format!(
        "import time\nheld = []\nwhile len(held) * 24 < {mib}:\n    held.append(b'x' * (24 << 20))\n    time.sleep(0.3)\n\
         time.sleep(600)\n"
    );
    Proc(Command::new("python3").args(["-c", &code, "degradation-hog"]).spawn().unwrap())
}

fn degradation(server: &Server, body: Value) -> Value {
    let (status, answer) = server.post("/resources/degradation", &body.to_string()).unwrap();
    assert_eq!(status, 200, "{answer}");
    answer["result"].clone()
}

fn status(server: &Server) -> Value {
    degradation(server, json!({"operation": "status"}))
}

fn row<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["modules"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("no {name}: {s}"))
}

fn whole(m: &Value) -> bool {
    m["commanded_level"] == 0
        && m["paused"] == false
        && m["features"].as_array().unwrap().iter().all(|f| f["commanded_on"] == true)
}

/// Modules named in `applied` events, in the order they were first touched.
fn first_touched(events: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events.iter().filter(|e| e["detail"]["kind"] == "applied") {
        // Changes to allocations or the sampler name no module.
        for m in e["detail"]["changes"].as_array().unwrap().iter().filter_map(|c| c["module"].as_str()) {
            if !out.iter().any(|o| o == m) {
                out.push(m.to_string());
            }
        }
    }
    out
}

#[test]
fn a_memory_hog_sheds_modules_in_rank_order_and_everything_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("steward.toml");
    std::fs::write(
        &config,
        format!(
            "[[profile.modules]]\nname = \"workload\"\nmatchers = [{{ kind = \"command\", pattern = \"*steward-example-module*\" }}, \
             {{ kind = \"command\", pattern = \"*degradation-hog*\" }}]\n\n\
             [degradation]\ncheck_interval_s = {CHECK_S}\ndwell_s = 1\ncpu_saturated_pct = 101\nmemory_budget_bytes = {}\nbudget_modules = [\"workload\"]\n",
            400u64 << 20
        ),
    )
    .unwrap();
    let socket = dir.path().join("modules.sock");
    let server = Server::start_with(
        &dir.path().join("s.db"),
        &["--config".as_ref(), config.as_os_str(), "--module-socket".as_ref(), socket.as_os_str()],
    )
    .unwrap();
    let state = dir.path().join("agent");
    let agent = Agent::start(&state, AGENT_TOKEN, &[]).unwrap();
    let body = json!({"address": agent.address, "token": agent.token, "fingerprint": agent.fingerprint});
    let (code, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert_eq!(code, 201, "{node}");
    let node = node["id"].as_str().unwrap().to_string();
    let agent_token = dir.path().join("agent-token");
    std::fs::write(&agent_token, AGENT_TOKEN).unwrap();

    let _modules = [
        module("perception", "perception", &socket, &server.token_file),
        module("memory", "memory", &socket, &server.token_file),
        module("reasoning", "reasoning", &socket, &server.token_file),
        module("learning", "learning", &socket, &server.token_file),
    ];
    let _remote = module("learning", "remote-learning", &state.join("modules.sock"), &agent_token);
    wait_for(Duration::from_secs(10), || (status(&server)["modules"].as_array()?.len() == 5).then_some(()))
        .expect("five modules registered");

    // The hog climbs through every tier of the budget. New processes join the process table at
    // its next full scan: every 60 s while no one watches the UI.
    let mut hog = hog(390);
    let s = wait_for(Duration::from_secs(90), || {
        let s = status(&server);
        let top = s["constraints"].as_array()?.iter().find(|c| c["key"] == "memory")?.clone();
        (top["tier"] == 4 && row(&s, "reasoning")["commanded_level"] != 0).then_some(s)
    })
    .unwrap_or_else(|| {
        let snap = server
            .get("/api/snapshot")
            .map(|(_, s)| format!("{} {}", s["ts_ms"], s["processes"]["value"]["top"].as_array().map_or(0, Vec::len)))
            .unwrap_or_default();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
        panic!("memory never reached tier 4 with reasoning degraded: {}\nnow {now} snapshot: {snap}", status(&server))
    });
    let memory = s["constraints"].as_array().unwrap().iter().find(|c| c["key"] == "memory").unwrap();
    assert!(memory["evidence"][0]["value"].as_f64().unwrap() >= 95.0 - 5.0, "evidence: {memory}");
    assert!(whole(row(&s, "perception")), "the critical module is never touched: {s}");

    let events =
        degradation(&server, json!({"operation": "history", "limit": 5000}))["events"].as_array().unwrap().clone();
    let order = first_touched(&events);
    let rank = |m: &str| match m {
        "learning" | "remote-learning" => 0,
        "memory" => 1,
        "reasoning" => 2,
        other => panic!("{other} was touched: {order:?}"),
    };
    assert!(order.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])), "shed out of rank order: {order:?}");
    assert_eq!(order.first().map(|m| rank(m)), Some(0), "the sheddable ones go first: {order:?}");
    // The modules follow: learning applies what it was told, the critical one is told nothing.
    let mut last = Value::Null;
    wait_for(Duration::from_secs(10), || {
        let (_, list) = server.get("/api/registered-modules").ok()?;
        last = list.clone();
        let find = |n: &str| list.as_array()?.iter().find(|m| m["registration"]["name"] == n).cloned();
        let learning = find("learning")?;
        let told = learning["directives"].as_array()?;
        let applied = !told.is_empty() && told.iter().all(|d| d["ack"]["outcome"] == "applied");
        let perception = find("perception")?;
        let untouched =
            perception["directives"].as_array().is_none_or(Vec::is_empty) && perception["report"]["quality_level"] == 0;
        (applied && untouched).then_some(())
    })
    .unwrap_or_else(|| panic!("learning did not apply its directives, or perception was told something: {last}"));

    // The hog exits: everything comes back within two check intervals, in one step per check.
    let _ = hog.0.kill();
    let _ = hog.0.wait();
    let killed = Instant::now();
    let back = wait_for(Duration::from_secs(3 * CHECK_S), || {
        let s = status(&server);
        s["modules"].as_array()?.iter().all(whole).then_some(s)
    })
    .unwrap_or_else(|| panic!("not restored: {}", status(&server)));
    let took = killed.elapsed();
    assert!(took <= Duration::from_secs(2 * CHECK_S), "restored after {took:?}");
    let events =
        degradation(&server, json!({"operation": "history", "limit": 5000}))["events"].as_array().unwrap().clone();
    let applied: Vec<&str> = events
        .iter()
        .filter(|e| e["detail"]["kind"] == "applied")
        .map(|e| e["detail"]["policy"].as_str().unwrap())
        .collect();
    let mut unique = applied.clone();
    unique.dedup();
    assert_eq!(applied, unique, "a step taken twice is flapping: {applied:?}");
    for m in back["modules"].as_array().unwrap() {
        assert!(m["transitions"].as_u64().unwrap() <= 4, "{m}");
    }
    assert_eq!(row(&back, "perception")["transitions"], 0);

    // Killing the agent marks its module lost, and its node as a constraint.
    agent.signal("KILL");
    let s = wait_for(Duration::from_secs(10), || {
        let s = status(&server);
        let lost = row(&s, "remote-learning")["state"] == "lost";
        let node_lost = s["constraints"].as_array()?.iter().any(|c| c["key"] == format!("node_lost.{node}"));
        (lost && node_lost).then_some(s)
    })
    .unwrap_or_else(|| panic!("the agent's module was not marked lost: {}", status(&server)));
    assert_eq!(row(&s, "learning")["state"], "active");
}
