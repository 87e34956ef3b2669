//! A `suspend_allocations` step in force reaches the allocation engine: with memory far over a
//! tiny budget (tier 4, so the default memory-90 policy fires), best-effort allocations wait
//! with the hold as their reason while guaranteed ones start; the hold survives a restart of the
//! control center and is lifted when the policy no longer fires. A real `Steward` on a real
//! SQLite file; memory is this machine's.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_api::{AdapterProbe, ApiConfig, Steward};
use steward_core::alloc::AllocState;

fn config(db: &Path, budget_bytes: u64) -> ApiConfig {
    let mut config = ApiConfig { db_path: db.to_owned(), adapter_probe: AdapterProbe::Skip, ..ApiConfig::default() };
    config.sampler.gpus = false;
    config.refit_forecasts = false;
    config.degradation.memory_budget_bytes = Some(budget_bytes);
    config.degradation.detect_interval_ms = 200;
    config.degradation.check_interval_ms = 400;
    config.degradation.detect.dwell_ms = 0;
    config
}

async fn start(config: ApiConfig) -> Steward {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match Steward::start(config.clone()) {
            Ok(s) => return s,
            // The previous instance's database lock may still be held for a moment.
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("{e}"),
        }
    }
}

fn request(id: &str, qos: &str) -> Value {
    json!({"allocation_type": "allocate", "allocation_request": {
        "id": id, "owner": "t", "qos": qos,
        "resources": {"gpus": 0, "cores": 1, "memory_bytes": 1048576}}})
}

async fn state_of(s: &Steward, id: &str) -> (AllocState, String) {
    let all = s.allocations().await.unwrap();
    let a = all.iter().find(|a| a.id == id).unwrap();
    (a.state, a.pending_reason.clone().unwrap_or_default())
}

async fn wait_for(s: &Steward, id: &str, want: AllocState) -> (AllocState, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = state_of(s, id).await;
        if got.0 == want || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_held(s: &Steward) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s.degradation_status().unwrap().steps.iter().any(|g| g.policy == "memory-90") {
        assert!(Instant::now() < deadline, "memory-90 never fired: {:?}", s.degradation_status().unwrap().constraints);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn best_effort_allocations_are_held_while_memory_is_short_and_resume_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("steward.db");
    let s = start(config(&db, 1 << 20)).await;
    wait_held(&s).await;
    s.allocate(request("service", "guaranteed")).await.unwrap();
    s.allocate(request("batch", "best_effort")).await.unwrap();
    assert_eq!(wait_for(&s, "service", AllocState::Running).await.0, AllocState::Running);
    let (st, why) = state_of(&s, "batch").await;
    assert_eq!(st, AllocState::Pending, "{why}");
    assert!(why.starts_with("held by degradation: memory-90"), "{why}");
    drop(s);

    // Restarted with the same budget: the hold is in force before anything could start.
    let s = start(config(&db, 1 << 20)).await;
    let (st, why) = state_of(&s, "batch").await;
    assert_eq!(st, AllocState::Pending, "{why}");
    assert!(why.contains("held by degradation"), "{why}");
    drop(s);

    // A budget memory cannot reach: the constraint clears, the step is given back, batch starts.
    let s = start(config(&db, u64::MAX / 4)).await;
    let (st, why) = wait_for(&s, "batch", AllocState::Running).await;
    assert_eq!(st, AllocState::Running, "{why}");
}
