//! Fuzzing every request body type through the real router over a real Steward and SQLite file:
//! arbitrary JSON values, and mutations of valid bodies (a field taken out, replaced by any JSON
//! value, an unknown one added, the body cut short). A bounded number of cases per route, so
//! `cargo test` (and CI) runs it: 0 panics, 0 5xx, and every 4xx in the one error shape.

mod common;

use std::sync::OnceLock;

use axum::Router;
use axum::http::StatusCode;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Each route that takes a body, with a valid body to mutate. No agent is attached, so a
/// distribute request that gets through only waits for a node; nothing runs.
fn routes() -> Vec<(&'static str, &'static str, Value)> {
    let window = json!({"owner": "ann", "node": "n", "cores": 1,
        "start_time": "2099-01-01T10:00:00Z", "end_time": "2099-01-01T11:00:00Z"});
    vec![
        ("POST", "/api/history", json!({"series": ["cpu.total"], "from_ms": 0, "to_ms": 60_000, "max_points": 10})),
        ("PATCH", "/api/reservations/r-1", json!({"start_time": "2099-01-01T10:00:00Z", "gpus": []})),
        ("PUT", "/api/datasets/logs", json!({"bytes": 10, "nodes": ["local"]})),
        ("POST", "/api/profile", json!({"profiling_type": "system", "horizon_minutes": 60})),
        ("POST", "/resources/profile", json!({"profiling_type": "module", "module_name": "m"})),
        ("PUT", "/api/modules", json!({"name": "m", "matchers": [{"kind": "cgroup", "prefix": "/x"}]})),
        ("POST", "/api/modules/m/deep-profile", json!({"duration_s": 1, "interval_ms": 100})),
        (
            "POST",
            "/resources/allocate",
            json!({"allocation_type": "allocate", "allocation_request":
                {"owner": "ann", "priority": "high", "resources": {"cores": 1, "gpus": 0}, "duration_s": 60, "queue": false}}),
        ),
        ("POST", "/resources/allocate", json!({"allocation_type": "reserve", "reservation_request": window})),
        (
            "POST",
            "/resources/distributed",
            json!({"operation": "distribute", "task":
                {"command": ["echo", "{item}"], "input": {"type": "range", "start": 0, "end": 4}, "partitions": 2}}),
        ),
        ("POST", "/resources/distributed", json!({"operation": "monitor", "execution_id": "x-1"})),
        (
            "POST",
            "/resources/accelerators",
            json!({"operation": "map", "place": true, "policy": "energy", "tasks": [{"id": "t1", "owner": "ann",
                "workload": {"parameters": 1_000_000_000u64, "precision": "bf16", "batch_size": 4, "mode": "training",
                    "operations": [{"class": "matmul", "share": 0.9}, {"class": "elementwise", "share": 0.1}],
                    "profile": {"device": "NVIDIA A100-SXM4-80GB", "step_time_ms": 120.0}}}]}),
        ),
        ("POST", "/resources/accelerators", json!({"operation": "list"})),
        (
            "POST",
            "/resources/accelerators",
            json!({"operation": "register", "accelerator": {"id": "tpu0", "kind": "tpu", "model": "v5e",
                "memory_bytes": 1024, "precisions": ["bf16"], "peak_tflops": {"bf16": 197.0}}}),
        ),
        (
            "POST",
            "/resources/accelerators",
            json!({"operation": "advise", "device": "local/gpu0", "workload": {"parameters": 7}}),
        ),
        (
            "POST",
            "/resources/degradation",
            json!({"operation": "override", "by": "fuzz", "override": {"module": "m", "force_level": 1, "exempt": false}}),
        ),
        (
            "POST",
            "/resources/degradation",
            json!({"operation": "set_policy", "policy": {"name": "p", "when": {"constraint": "memory", "tier": 2},
                "steps": [{"action": "lower_quality", "target": {"criticality": "sheddable"}, "amount": 1}]}}),
        ),
        ("POST", "/resources/degradation", json!({"operation": "history", "since_ms": 0, "limit": 10})),
        // No `plan` seed: a mutation dropping its `nodes` would profile this machine's GPUs.
        ("POST", "/resources/energy", json!({"operation": "journal", "limit": 5})),
        ("POST", "/resources/energy", json!({"operation": "rollback", "rollback": {"change_id": 7}})),
        (
            "POST",
            "/resources/energy",
            json!({"operation": "apply", "apply": {"plan_id": "plan-nope", "dry_run": true}}),
        ),
        (
            "POST",
            "/resources/accelerators",
            json!({"operation": "place", "placement": {"allocation_id": "a", "node": "local"}}),
        ),
        // Node probes dial the address: a closed loopback port answers at once.
        ("POST", "/api/nodes/probe", json!({"address": "127.0.0.1:1"})),
        ("POST", "/api/nodes", json!({"address": "127.0.0.1:1", "token": "t", "fingerprint": ""})),
        (
            "POST",
            "/api/registered-modules/local/m/directives",
            json!({"directive": {"kind": "set_quality", "level": 1}, "reason": "fuzz"}),
        ),
    ]
}

struct World {
    runtime: tokio::runtime::Runtime,
    app: Router,
    _steward: steward_api::Steward,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (steward, app, dir) = runtime.block_on(async { common::start() });
        World { runtime, app, _steward: steward, _dir: dir }
    })
}

/// Sends `body` and checks the answer: never a 5xx, and any error in the one shape.
fn check(method: &str, uri: &str, body: &str) -> Result<(), TestCaseError> {
    let w = world();
    let (status, answer) = w.runtime.block_on(common::call(&w.app, method, uri, Some(body)));
    prop_assert!(!status.is_server_error(), "{method} {uri} {body} -> {status} {answer}");
    if status.is_client_error() {
        prop_assert!(answer["kind"].is_string() && answer["message"].is_string(), "{status}: {answer}");
        if let Some(fields) = answer.get("fields") {
            prop_assert!(fields.as_array().is_some_and(|f| f.iter().all(|e| e["field"].is_string())), "{answer}");
        }
    } else {
        prop_assert!(status.is_success(), "{method} {uri} {body} -> {status} {answer}");
    }
    Ok(())
}

fn any_json() -> impl Strategy<Value = Value> {
    // Numbers weigh most: they are what overflows.
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        3 => any::<i64>().prop_map(Value::from),
        2 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        2 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1), Just(0)].prop_map(Value::from),
        1 => Just(json!(u64::MAX)),
        2 => ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Remove(usize),
    Replace(usize, Value),
    AddUnknown(String, Value),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), any_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        ("[a-z]{1,8}", any_json()).prop_map(|(k, v)| Mutation::AddUnknown(k, v)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// The paths of every object in `v`, so a mutation can reach nested fields too.
fn object_paths(v: &Value, here: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Object(m) => {
            out.push(here.clone());
            for (k, child) in m {
                here.push(Seg::Key(k.clone()));
                object_paths(child, here, out);
                here.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                here.push(Seg::Index(i));
                object_paths(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    path.iter().fold(v, |v, seg| match seg {
        Seg::Key(k) => &mut v[k.as_str()],
        Seg::Index(i) => &mut v[*i],
    })
}

/// The body after the mutations, as text (a truncation may leave it malformed).
fn mutate(mut body: Value, mutations: &[Mutation]) -> String {
    let mut cut = None;
    for m in mutations {
        match m {
            Mutation::Truncate(at) => cut = Some(*at),
            Mutation::Remove(at) | Mutation::Replace(at, _) => {
                let mut paths = Vec::new();
                object_paths(&body, &mut Vec::new(), &mut paths);
                if paths.is_empty() {
                    continue;
                }
                let Value::Object(obj) = at_mut(&mut body, &paths[at % paths.len()]) else { continue };
                let Some(key) = obj.keys().nth(at % obj.len().max(1)).cloned() else { continue };
                match m {
                    Mutation::Replace(_, v) => obj.insert(key, v.clone()),
                    _ => obj.remove(&key),
                };
            }
            Mutation::AddUnknown(k, v) => {
                if let Value::Object(top) = &mut body {
                    top.insert(format!("x_{k}"), v.clone());
                }
            }
        }
    }
    let text = body.to_string();
    match cut {
        Some(at) if !text.is_empty() => {
            let mut end = at % text.len();
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text[..end].to_string()
        }
        _ => text,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_on_every_body_route_is_never_a_5xx(route in 0usize..17, body in any_json()) {
        let (method, uri, _) = routes().swap_remove(route % routes().len());
        check(method, uri, &body.to_string())?;
    }

    #[test]
    fn mutated_valid_bodies_are_never_a_5xx(route in 0usize..17, mutations in prop::collection::vec(mutation(), 0..4)) {
        let (method, uri, valid) = routes().swap_remove(route % routes().len());
        check(method, uri, &mutate(valid, &mutations))?;
    }
}

#[test]
fn every_valid_body_is_accepted_or_refused_as_a_4xx() {
    for (method, uri, body) in routes() {
        check(method, uri, &body.to_string()).unwrap();
    }
    let w = world();
    let (status, _) = w.runtime.block_on(common::call(&w.app, "GET", "/api/status", None));
    assert_eq!(status, StatusCode::OK);
}
