//! Remote nodes' usage history: a real `stewardd` added to a real `stewardctl serve` has its
//! metrics recorded in the control center's SQLite history under `node.<id>.`, with the values
//! this machine's /proc shows (the agent runs here too), and a profile of the two nodes makes
//! no consolidation suggestion without a day of history.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use steward_system_tests::{Agent, Server, wait_for};

const TOKEN: &str = "remote-history-test-token-0123456789abcdef";

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn mem_total_bytes() -> f64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kb: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024.0
}

/// `(ts_ms, min, max)` of each point of `series` in `history`.
fn points(history: &Value, series: &str) -> Vec<(i64, f64, f64)> {
    let Some(h) = history.as_array().and_then(|a| a.iter().find(|h| h["series"] == series)) else { return vec![] };
    h["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["ts_ms"].as_i64().unwrap(), p["min"].as_f64().unwrap(), p["max"].as_f64().unwrap()))
        .collect()
}

#[test]
fn a_remote_nodes_metrics_are_kept_in_history() {
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&dir.path().join("agent"), TOKEN, &[]).unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    let started = now_ms();
    let body = json!({"address": agent.address, "token": agent.token, "fingerprint": agent.fingerprint});
    let (status, node) = server.post("/api/nodes", &body.to_string()).unwrap();
    assert_eq!(status, 201, "{node}");
    let id = node["id"].as_str().unwrap().to_string();
    let (cpu, used, avail) =
        (format!("node.{id}.cpu.total"), format!("node.{id}.mem.used"), format!("node.{id}.mem.available"));

    // Raw samples, one per bucket: the query asks for buckets far narrower than the 1 s stream.
    let query = || {
        json!({"series": [cpu, used, avail], "from_ms": started - 1_000, "to_ms": now_ms() + 1_000, "max_points": 10_000}).to_string()
    };
    // Nobody watches this server: it samples (and records the node) every 10 s, idle mode's rate.
    let history = wait_for(Duration::from_secs(45), || {
        let (status, h) = server.post("/api/history", &query()).ok()?;
        assert_eq!(status, 200, "{h}");
        (points(&h, &cpu).len() >= 2 && points(&h, &used).len() >= 2).then_some(h)
    })
    .unwrap_or_else(|| panic!("no remote history after 45 s: {:?}", server.post("/api/history", &query())));

    let cpu_points = points(&history, &cpu);
    assert!(
        cpu_points.iter().all(|&(_, lo, hi)| (0.0..=100.0).contains(&lo) && (0.0..=100.0).contains(&hi)),
        "{cpu_points:?}"
    );
    // Used + available is the machine's MemTotal in every sample (the collector derives used
    // from it): the agent's numbers, not invented ones, made it into the control center's file.
    let total = mem_total_bytes();
    let avail_points = points(&history, &avail);
    let mut matched = 0;
    for (ts, u, u_hi) in points(&history, &used) {
        let Some(&(_, a, a_hi)) = avail_points.iter().find(|p| p.0 == ts) else { continue };
        if u == u_hi && a == a_hi {
            assert_eq!(u + a, total, "at {ts}: used {u} + available {a}");
            matched += 1;
        }
    }
    assert!(matched >= 2, "too few samples to compare: {matched}");
    let times: Vec<i64> = points(&history, &used).iter().map(|p| p.0).collect();
    assert!(times.windows(2).all(|w| w[1] - w[0] >= 9_000), "recorded faster than the local sampler: {times:?}");

    // Two nodes, seconds of history: the profile answers, and consolidation stays silent.
    let (status, report) = server.post("/resources/profile", r#"{"profiling_type":"system"}"#).unwrap();
    assert_eq!(status, 200, "{report}");
    let kinds: Vec<&str> = report["result"]["optimization_suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    assert!(!kinds.contains(&"consolidate"), "{kinds:?}");
}
