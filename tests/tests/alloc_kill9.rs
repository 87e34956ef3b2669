//! Allocation state survives SIGKILL at any moment: a seeded stream of allocations (scavenger
//! work preempted by critical work), reservations and cancels runs against a real
//! `stewardctl serve`, which is killed with SIGKILL at 24 seeded points (mid-request and
//! mid-preemption included) and restarted. Every acknowledged allocation and reservation must be
//! there exactly once, retried request ids must not duplicate anything, and nothing may be
//! double-booked.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use steward_system_tests::Server;

const ROUNDS: u64 = 24;

fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn rfc3339(s: i64) -> String {
    // Seconds since the epoch → RFC 3339 UTC, without a date library in this crate.
    let days = s.div_euclid(86_400);
    let secs = s.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Howard Hinnant's days → civil date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The `i`th request of the stream (deterministic from `i`).
fn request(i: u64, base: i64, cores: u64) -> (String, Value) {
    let id = format!("k{i}");
    let body = if i.is_multiple_of(5) {
        let start = base + 86_400 + (i as i64 % 40) * 3_600;
        json!({"allocation_type": "reserve", "reservation_request": {
            "id": id, "owner": "sys", "node": "", "cores": 1, "start_time": rfc3339(start), "end_time": rfc3339(start + 5_400)}})
    } else {
        let critical = i.is_multiple_of(3);
        json!({"allocation_type": "allocate", "allocation_request": {
            "id": id, "owner": format!("u{}", i % 4),
            "resources": {"cores": if critical { cores } else { 1 }},
            "priority": if critical { "critical" } else { "scavenger" },
            "qos": if critical { "burstable" } else { "best_effort" },
            "duration_s": if critical { Some(2) } else { None }}})
    };
    (id, body)
}

fn post(url: &str, bearer: &str, body: &Value) -> Option<Value> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent();
    let mut res = agent
        .post(format!("{url}/resources/allocate"))
        .header("authorization", bearer)
        .content_type("application/json")
        .send(body.to_string())
        .ok()?;
    if res.status().as_u16() != 200 {
        return None;
    }
    serde_json::from_str(&res.body_mut().read_to_string().ok()?).ok()
}

fn check(server: &Server, acked: &BTreeMap<String, Value>, node: &str, cores: u64) {
    let (_, allocs) = server.get("/api/allocations").unwrap();
    let far = |d: i64| rfc3339(now_s() + d * 86_400);
    let (_, resvs) = server.get(&format!("/api/reservations?from={}&to={}", far(-2), far(30))).unwrap();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for a in allocs.as_array().unwrap().iter().chain(resvs.as_array().unwrap()) {
        *seen.entry(a["id"].as_str().unwrap().to_string()).or_default() += 1;
    }
    assert!(
        seen.values().all(|&n| n == 1),
        "duplicated records: {:?}",
        seen.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    for (id, answer) in acked {
        if answer["result"]["success"] == true {
            assert_eq!(seen.get(id), Some(&1), "acknowledged {id} is missing after a restart: {answer}");
        }
    }
    // No double booking: running work fits the node, reservations do not overlap beyond it.
    let running: Vec<&Value> = allocs.as_array().unwrap().iter().filter(|a| a["state"] == "running").collect();
    let used: u64 = running.iter().map(|a| a["cores"].as_u64().unwrap()).sum();
    assert!(used <= cores, "{used} cores running on a {cores}-core node");
    assert!(running.iter().all(|a| a["node"] == node));
    let windows: Vec<(String, String)> = resvs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["start_time"].as_str().unwrap().into(), r["end_time"].as_str().unwrap().into()))
        .collect();
    // The most one-core windows open at once is reached at some window's start.
    for a in &windows {
        let open = windows.iter().filter(|b| b.0 <= a.0 && a.0 < b.1).count();
        assert!(open as u64 <= cores, "{open} one-core reservations open at {} on {cores} cores", a.0);
    }
}

#[test]
fn acknowledged_allocations_survive_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alloc.db");
    let base = now_s();
    let acked: Arc<Mutex<BTreeMap<String, Value>>> = Arc::default();
    let mut next = 0u64;
    let mut in_flight: BTreeSet<u64> = BTreeSet::new();
    let mut preempted_total = 0;
    for round in 0..ROUNDS {
        let server = Server::start(&db).unwrap();
        let (_, res) = server.get("/api/resources").unwrap();
        let node = res[0]["node"].as_str().unwrap().to_string();
        let cores = res[0]["cores"].as_u64().unwrap();
        check(&server, &acked.lock().unwrap(), &node, cores);
        // Retry what was in flight at the last kill: same ids, so nothing can double.
        for i in std::mem::take(&mut in_flight) {
            let (id, mut body) = request(i, base, cores);
            if let Some(r) = body.get_mut("reservation_request") {
                r["node"] = node.clone().into();
            }
            if let Some(answer) = post(&server.url, &server.bearer(), &body) {
                acked.lock().unwrap().insert(id, answer);
            }
        }
        check(&server, &acked.lock().unwrap(), &node, cores);
        // Stream requests from a thread; kill the server after a seeded delay.
        let (url, bearer) = (server.url.clone(), server.bearer());
        let first = next;
        let count = 12 + round % 7;
        next += count;
        let sender_acked = acked.clone();
        let sender_node = node.clone();
        let sent = Arc::new(Mutex::new(BTreeSet::new()));
        let sender_sent = sent.clone();
        let sender = std::thread::spawn(move || {
            for i in first..first + count {
                let (id, mut body) = request(i, base, cores);
                if let Some(r) = body.get_mut("reservation_request") {
                    r["node"] = sender_node.clone().into();
                }
                sender_sent.lock().unwrap().insert(i);
                match post(&url, &bearer, &body) {
                    Some(answer) => {
                        sender_acked.lock().unwrap().insert(id, answer);
                    }
                    None => return,
                }
                if i % 7 == 6 {
                    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
                    let _ = agent
                        .delete(format!("{url}/api/allocations/k{}", i - 3))
                        .header("authorization", &bearer)
                        .call();
                }
            }
        });
        // Seeded kill point: 20–400 ms into the stream (a request takes a few ms).
        let delay = 20 + (round * 7919 + 13) % 380;
        std::thread::sleep(Duration::from_millis(delay));
        let (_, events) = server.get("/api/events?kind=preemption&limit=1000").unwrap_or((0, json!([])));
        preempted_total = preempted_total.max(events.as_array().map_or(0, Vec::len));
        server.kill9().unwrap();
        sender.join().unwrap();
        let done = acked.lock().unwrap();
        in_flight = sent.lock().unwrap().iter().copied().filter(|i| !done.contains_key(&format!("k{i}"))).collect();
    }
    let server = Server::start(&db).unwrap();
    let (_, res) = server.get("/api/resources").unwrap();
    check(&server, &acked.lock().unwrap(), res[0]["node"].as_str().unwrap(), res[0]["cores"].as_u64().unwrap());
    let acked = acked.lock().unwrap();
    let granted = acked.values().filter(|a| a["result"]["success"] == true).count();
    eprintln!("{} acknowledged ({granted} granted), {preempted_total} preemptions seen, {ROUNDS} kills", acked.len());
    assert!(granted >= 50, "too few requests went through to mean anything: {granted}");
    assert!(preempted_total > 0, "no preemption happened between kills");
}
