//! `/resources/allocate` and the allocation routes over a real Steward and SQLite file. The
//! local node here has no GPUs, so these use cores and memory; GPU rows are covered by the
//! browser test with the fake NVML library.

mod common;

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use steward_api::{ApiConfig, Steward};

fn start(dir: &tempfile::TempDir) -> (Steward, Router) {
    let mut config = ApiConfig { db_path: dir.path().join("t.db"), ..ApiConfig::default() };
    config.sampler.gpus = false;
    // Background threads of a just-dropped service may hold it (and its lock) for a moment.
    let mut tries = 0;
    let steward = loop {
        match Steward::start(config.clone()) {
            Err(e) if tries < 150 && e.to_string().contains("in use by another Steward") => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => break other.unwrap(),
        }
    };
    let app = steward_server::router(steward.clone(), None, 7878, common::TOKEN);
    (steward, app)
}

/// The shared request helper, taking owned bodies (most are built with `json!`).
async fn call(app: &Router, method: &str, uri: &str, body: Option<String>) -> (StatusCode, Value) {
    common::call(app, method, uri, body.as_deref()).await
}

fn node(app_resources: &Value) -> (String, u64) {
    let n = &app_resources[0];
    (n["node"].as_str().unwrap().to_string(), n["cores"].as_u64().unwrap())
}

#[tokio::test]
async fn bad_requests_are_400_with_field_errors_never_500() {
    let dir = tempfile::tempdir().unwrap();
    let (_s, app) = start(&dir);
    let (st, body) = call(&app, "POST", "/resources/allocate", Some("{not json".into())).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    let (st, body) = call(&app, "POST", "/resources/allocate", Some(r#"{"allocation_type":"lend"}"#.into())).await;
    assert_eq!((st, body["fields"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("allocation_type")));
    let bad = json!({"allocation_type":"allocate","allocation_request":{"owner":"","resources":{},"duration_s":0}});
    let (st, body) = call(&app, "POST", "/resources/allocate", Some(bad.to_string())).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = body["fields"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["allocation_request.owner", "allocation_request.resources", "allocation_request.duration_s"]);
    let (st, _) = call(&app, "PATCH", "/api/reservations/nope", Some("{}".into())).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(&app, "GET", "/api/reservations?from=yesterday", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn reserve_refuse_move_list_export_delete() {
    let dir = tempfile::tempdir().unwrap();
    let (_s, app) = start(&dir);
    let (_, res) = call(&app, "GET", "/api/resources", None).await;
    let (node, _) = node(&res);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let at = |h: i64| steward_core::alloc::time::format_rfc3339((now + 86_400 + h * 3600) * 1000);
    let reserve = |id: &str, start: i64, end: i64| {
        json!({"allocation_type":"reserve","reservation_request":{"id":id,"owner":"ann","node":node,"cores":1,"memory_bytes":1u64<<20,"start_time":at(start),"end_time":at(end)}})
            .to_string()
    };
    let (st, r1) = call(&app, "POST", "/resources/allocate", Some(reserve("r1", 0, 3))).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!((r1["request_id"].as_str(), r1["result"]["success"].as_bool()), (Some("r1"), Some(true)), "{r1}");
    assert_eq!(r1["result"]["reservation_id"], "r1");
    // The same id with the same request again: the original answer, not a second reservation.
    let (_, again) = call(&app, "POST", "/resources/allocate", Some(reserve("r1", 0, 3))).await;
    assert_eq!(again, r1);
    // Cores reserved by overlapping windows may not exceed the node (only reachable when the
    // node has one core): a GPU-less machine shows the rule through memory instead.
    let big = json!({"allocation_type":"reserve","reservation_request":{"id":"r2","owner":"bob","node":node,"memory_bytes":u64::MAX>>1,"start_time":at(1),"end_time":at(2)}});
    let (st, r2) = call(&app, "POST", "/resources/allocate", Some(big.to_string())).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r2["result"]["success"], false, "{r2}");
    assert!(r2["result"]["error"].as_str().is_some() && r2["result"]["availability"].is_array());

    let (st, moved) =
        call(&app, "PATCH", "/api/reservations/r1", Some(json!({"start_time": at(4), "end_time": at(7)}).to_string()))
            .await;
    assert_eq!(st, StatusCode::OK, "{moved}");
    let (st, list) = call(&app, "GET", &format!("/api/reservations?from={}&to={}", at(-24), at(24)), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["start_time"], at(4));
    let (st, ics) = call(&app, "GET", "/api/reservations.ics", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(ics.as_str().unwrap().contains("UID:r1@steward"));
    let (st, _) = call(&app, "DELETE", "/api/reservations/r1", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, events) = call(&app, "GET", "/api/events?limit=10", None).await;
    let kinds: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["reservation_deleted", "reservation_changed", "reservation"]);
}

#[tokio::test]
async fn one_occurrence_of_a_daily_reservation_moves_and_is_cancelled_on_its_own_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (s, app) = start(&dir);
    let (_, res) = call(&app, "GET", "/api/resources", None).await;
    let (node, _) = node(&res);
    let memory = res[0]["memory_bytes"].as_u64().unwrap();
    // Whole hours from tomorrow 00:00 UTC, so the daily series' occurrences fall on known hours.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let day0 = (now / 86_400 + 1) * 86_400;
    let at = |h: i64| steward_core::alloc::time::format_rfc3339((day0 + h * 3600) * 1000);
    let daily = json!({"allocation_type":"reserve","reservation_request":{"id":"daily","owner":"ann","node":node,"cores":1,"memory_bytes":1u64<<20,
        "start_time":at(1),"end_time":at(2),"recurrence":{"freq":"daily","tz":"UTC"}}});
    let (_, r) = call(&app, "POST", "/resources/allocate", Some(daily.to_string())).await;
    assert_eq!(r["result"]["success"], true, "{r}");
    // All of the node's memory on day 1, 05:00–06:00.
    let blocker = json!({"allocation_type":"reserve","reservation_request":{"id":"blocker","owner":"bob","node":node,"memory_bytes":memory,
        "start_time":at(29),"end_time":at(30)}});
    let (_, r) = call(&app, "POST", "/resources/allocate", Some(blocker.to_string())).await;
    assert_eq!(r["result"]["success"], true, "{r}");

    let day1 = at(25);
    let patch = |o: &str| format!("/api/reservations/daily?occurrence={}", o.replace('+', "%2B"));
    let (st, why) =
        call(&app, "PATCH", &patch(&day1), Some(json!({"start_time": at(29), "end_time": at(30)}).to_string())).await;
    assert_eq!(st, StatusCode::CONFLICT, "{why}");
    assert!(why["message"].as_str().unwrap().contains("'blocker'"), "{why}");
    let (st, moved) =
        call(&app, "PATCH", &patch(&day1), Some(json!({"start_time": at(27), "end_time": at(28)}).to_string())).await;
    assert_eq!(st, StatusCode::OK, "{moved}");
    let (st, _) = call(&app, "DELETE", &patch(&at(49)), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    // Not an occurrence's start → 404; not a time → 400.
    let (st, _) = call(&app, "PATCH", &patch(&at(26)), Some("{}".into())).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(&app, "DELETE", "/api/reservations/daily?occurrence=tuesday", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // The series as stored, its changed occurrences with it.
    let (st, series) = call(&app, "GET", &format!("/api/reservations/daily@{}", at(25)), None).await;
    assert_eq!((st, &series["start_time"]), (StatusCode::OK, &json!(at(1))), "{series}");
    let exceptions: Vec<(&str, bool)> = series["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["start_time"].as_str().unwrap(), x["cancelled"].as_bool().unwrap()))
        .collect();
    assert_eq!(exceptions, [(at(27).as_str(), false), (at(49).as_str(), true)]);
    let (st, _) = call(&app, "GET", "/api/reservations/nope", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (st, ics) = call(&app, "GET", "/api/reservations.ics", None).await;
    assert_eq!(st, StatusCode::OK);
    let ics = ics.as_str().unwrap().to_string();
    let basic = |h: i64| at(h).replace(['-', ':'], "").trim_end_matches('Z').to_string();
    assert!(ics.contains(&format!("EXDATE;TZID=UTC:{}\r\n", basic(49))), "{ics}");
    assert!(ics.contains(&format!("RECURRENCE-ID;TZID=UTC:{}\r\n", basic(25))), "{ics}");

    let listed = |list: &Value| -> Vec<(String, String)> {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["occurrence_of"] == "daily")
            .map(|r| (r["id"].as_str().unwrap().to_string(), r["start_time"].as_str().unwrap().to_string()))
            .collect()
    };
    let want: Vec<(String, String)> =
        [(1, 1), (25, 27), (73, 73)].iter().map(|&(o, s)| (format!("daily@{}", at(o)), at(s))).collect();
    let window = format!("/api/reservations?from={}&to={}", at(0), at(96));
    let (_, list) = call(&app, "GET", &window, None).await;
    assert_eq!(listed(&list), want);
    drop((s, app));
    let (_s, app) = start(&dir);
    let (_, list) = call(&app, "GET", &window, None).await;
    assert_eq!(listed(&list), want, "after a restart");
}

#[tokio::test]
async fn critical_preempts_best_effort_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (s, app) = start(&dir);
    let (_, res) = call(&app, "GET", "/api/resources", None).await;
    let (_, cores) = node(&res);
    let ask = |id: &str, priority: &str, qos: &str| {
        json!({"allocation_type":"allocate","allocation_request":{"id":id,"owner":"ann","resources":{"cores":cores},"priority":priority,"qos":qos}}).to_string()
    };
    let (_, be) = call(&app, "POST", "/resources/allocate", Some(ask("be", "scavenger", "best_effort"))).await;
    assert_eq!(be["result"]["state"], "running", "{be}");
    let (_, hi) = call(&app, "POST", "/resources/allocate", Some(ask("hi", "critical", "guaranteed"))).await;
    assert_eq!(hi["result"]["state"], "running", "{hi}");
    assert_eq!(hi["result"]["allocated_resources"]["cores"], cores);
    let (_, events) = call(&app, "GET", "/api/events?kind=preemption&limit=5", None).await;
    assert_eq!(events[0]["subject"], "be", "{events}");
    let (_, refused) = call(
        &app,
        "POST",
        "/resources/allocate",
        Some(json!({"allocation_type":"allocate","allocation_request":{"owner":"x","resources":{"cores":cores},"queue":false}}).to_string()),
    )
    .await;
    assert_eq!(refused["result"]["success"], false, "{refused}");
    assert!(refused["request_id"].as_str().unwrap().starts_with("req-"));
    let (_, list) = call(&app, "GET", "/api/allocations", None).await;
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["be", "hi"], "a queue:false refusal is an answer, not an allocation");
    s.shutdown();
    drop((s, app));

    let (_s, app) = start(&dir);
    let (_, list) = call(&app, "GET", "/api/allocations", None).await;
    let state = |id: &str| list.as_array().unwrap().iter().find(|a| a["id"] == id).map(|a| a["state"].clone());
    assert_eq!(state("hi"), Some(json!("running")));
    assert_eq!(state("be"), Some(json!("pending")));
    let (st, _) = call(&app, "DELETE", "/api/allocations/hi", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, list) = call(&app, "GET", "/api/allocations", None).await;
    let be = list.as_array().unwrap().iter().find(|a| a["id"] == "be").unwrap();
    assert_eq!(be["state"], "running", "the requeued one runs again once room frees up");
}

/// The same id with the same body is a retry (the first answer); with another body it is a
/// mistake, answered 409 naming what differs, never the old answer to a different request.
#[tokio::test]
async fn a_reused_request_id_with_another_body_is_a_conflict_naming_the_difference() {
    let dir = tempfile::tempdir().unwrap();
    let (s, app) = start(&dir);
    let (_, res) = call(&app, "GET", "/api/resources", None).await;
    let (_, cores) = node(&res);
    let ask = |id: &str, cores: u64| {
        json!({"allocation_type":"allocate","allocation_request":{"id":id,"owner":"ann","resources":{"cores":cores},"queue":false}})
            .to_string()
    };
    let (st, first) = call(&app, "POST", "/resources/allocate", Some(ask("job", cores + 1))).await;
    assert_eq!((st, &first["result"]["success"]), (StatusCode::OK, &json!(false)), "{first}");
    // Key order does not make another request.
    let same = json!({"allocation_request":{"queue":false,"resources":{"cores":cores + 1},"owner":"ann","id":"job"},"allocation_type":"allocate"});
    let (_, again) = call(&app, "POST", "/resources/allocate", Some(same.to_string())).await;
    assert_eq!(again, first);
    let (st, conflict) = call(&app, "POST", "/resources/allocate", Some(ask("job", 1))).await;
    assert_eq!(st, StatusCode::CONFLICT, "{conflict}");
    let text = conflict.to_string();
    assert!(text.contains("was already used") && text.contains("job"), "{text}");
    assert!(text.contains(&format!("allocation_request.resources.cores was {}, now 1", cores + 1)), "{text}");
    // Still a conflict after a restart: the request is kept with its answer.
    s.shutdown();
    drop((s, app));
    let (_s, app) = start(&dir);
    let (st, _) = call(&app, "POST", "/resources/allocate", Some(ask("job", 1))).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, fixed) = call(&app, "POST", "/resources/allocate", Some(ask("job-2", 1))).await;
    assert_eq!(fixed["result"]["state"], "running", "{fixed}");
}

/// This machine is `local` in the cluster view, the resources and constraints alike; a node
/// nobody has is named as unknown; records written under the hostname are read as `local`.
#[tokio::test]
async fn this_machine_has_one_id_everywhere_and_an_unknown_node_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (s, app) = start(&dir);
    let (_, nodes) = call(&app, "GET", "/api/nodes", None).await;
    let (_, res) = call(&app, "GET", "/api/resources", None).await;
    let hostname = nodes[0]["name"].as_str().unwrap().to_string();
    assert_eq!((nodes[0]["id"].as_str(), res[0]["node"].as_str()), (Some("local"), Some("local")));
    let pinned = |id: &str, node: &str| {
        json!({"allocation_type":"allocate","allocation_request":{"id":id,"owner":"ann","resources":{"cores":1},"constraints":{"node":node}}})
            .to_string()
    };
    let (_, a) = call(&app, "POST", "/resources/allocate", Some(pinned("here", "local"))).await;
    assert_eq!(
        (&a["result"]["state"], &a["result"]["allocated_resources"]["node"]),
        (&json!("running"), &json!("local")),
        "{a}"
    );
    let (_, b) = call(&app, "POST", "/resources/allocate", Some(pinned("there", "nowhere"))).await;
    assert_eq!(b["result"]["error"], "no node named \"nowhere\" (nodes: local)", "{b}");
    s.shutdown();
    drop((s, app));

    // A reservation stored by an older version, on the hostname.
    {
        // The service just dropped may hold the database's lock for a moment.
        let mut tries = 0;
        let mut store = loop {
            match steward_store::Store::open(&dir.path().join("t.db")) {
                Err(steward_store::StoreError::Locked { .. }) if tries < 150 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                other => break other.unwrap(),
            }
        };
        let day = 86_400_000
            * (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
                / 86_400_000
                + 2);
        let old = steward_core::alloc::Reservation {
            id: "old".into(),
            name: "old".into(),
            owner: "ann".into(),
            node: hostname.clone(),
            gpus: vec![],
            cores: 1,
            memory_bytes: 0,
            start_time: day,
            end_time: day + 3_600_000,
            flags: Default::default(),
            recurrence: None,
            occurrence_of: None,
            occurrence: None,
            exceptions: vec![],
        };
        let changes = steward_core::alloc::Changes { reservations: vec![old], ..Default::default() };
        store.commit_allocation_changes(&changes, None).unwrap();
    }
    let (_s, app) = start(&dir);
    let (_, list) = call(&app, "GET", "/api/allocations", None).await;
    assert_eq!(list[0]["node"], "local", "{list}");
    let (st, old) = call(&app, "GET", "/api/reservations/old", None).await;
    assert_eq!((st, &old["node"]), (StatusCode::OK, &json!("local")), "{old}");
}
