//! `/resources/accelerators` over a real Steward, SQLite file and the fake NVML library (two
//! GPUs on NVLink): registration with per-field errors that survives a restart and is offered
//! to allocations, characterization on lavapipe, and placing pending work onto a GPU.

mod common;

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use steward_api::{AdapterProbe, ApiConfig, Steward};

fn start(dir: &tempfile::TempDir) -> (Steward, Router) {
    let lib = steward_telemetry::fake_nvml::build_fake_nvml(&dir.path().join("nvml")).unwrap();
    let mut config = ApiConfig { db_path: dir.path().join("t.db"), ..ApiConfig::default() };
    config.sampler.nvml_lib = Some(lib);
    config.adapter_probe = AdapterProbe::InProcess;
    // Background threads of a just-dropped service may hold the database for a moment.
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

async fn accel(app: &Router, body: Value) -> (StatusCode, Value) {
    common::post(app, "/resources/accelerators", &body.to_string()).await
}

fn fields(body: &Value) -> Vec<&str> {
    body["fields"].as_array().map(|f| f.iter().filter_map(|e| e["field"].as_str()).collect()).unwrap_or_default()
}

fn tpu(id: &str) -> Value {
    json!({"id": id, "kind": "tpu", "model": "Cloud TPU v5e", "memory_bytes": 17179869184u64,
           "precisions": ["bf16", "int8"], "peak_tflops": {"bf16": 197.0, "int8": 394.0},
           "memory_bandwidth_gbps": 819.0, "health_check": ["sh", "-c", "echo 4 chips ok"]})
}

async fn allocate(app: &Router, request: Value) -> (StatusCode, Value) {
    let body = json!({"allocation_type": "allocate", "allocation_request": request});
    common::post(app, "/resources/allocate", &body.to_string()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_are_400_per_field_and_unknown_things_404() {
    let dir = tempfile::tempdir().unwrap();
    let (_s, app) = start(&dir);
    let (st, body) = accel(&app, json!({"operation": "borrow"})).await;
    assert_eq!((st, fields(&body)), (StatusCode::BAD_REQUEST, vec!["operation"]), "{body}");
    let bad = json!({"operation": "register", "accelerator": {"id": "a b", "kind": "tpu", "model": "",
        "memory_bytes": 0, "precisions": ["bf16"], "peak_tflops": {"fp32": 1.0}, "colour": "red"}});
    let (st, body) = accel(&app, bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["accelerator.colour"], "unknown fields are refused before the rest: {body}");
    let bad = json!({"operation": "register", "accelerator": {"id": "a b", "kind": "tpu", "model": "",
        "memory_bytes": 0, "precisions": ["bf16"], "peak_tflops": {"fp32": 1.0}}});
    let (st, body) = accel(&app, bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        fields(&body),
        ["accelerator.id", "accelerator.model", "accelerator.memory_bytes", "accelerator.peak_tflops.fp32"]
    );
    let mut elsewhere = tpu("t0");
    elsewhere["node"] = json!("node-nowhere");
    let (st, body) = accel(&app, json!({"operation": "register", "accelerator": elsewhere})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    let (st, _) = accel(&app, json!({"operation": "characterize", "adapter": "no such adapter"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // No health check is no failure: the health says there is none.
    let mut unchecked = tpu("t1");
    unchecked.as_object_mut().unwrap().remove("health_check");
    let (st, body) = accel(&app, json!({"operation": "register", "accelerator": unchecked})).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["accelerator"]["health"]["reason"], "no health check registered");
    let placement = json!({"allocation_id": "nope", "node": "local"});
    let (st, _) = accel(&app, json!({"operation": "place", "placement": placement})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registration_is_listed_health_checked_offered_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let ask_tpu = json!({"owner": "ann", "resources": {"cores": 1, "memory_bytes": 1048576},
                         "constraints": {"accelerator_kind": "tpu"}, "queue": false});
    {
        let (_s, app) = start(&dir);
        let (_, before) = allocate(&app, ask_tpu.clone()).await;
        assert_eq!(before["result"]["success"], false, "no TPU yet: {before}");
        let (st, body) = accel(&app, json!({"id": "r1", "operation": "register", "accelerator": tpu("tpu0")})).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!((body["request_id"].as_str(), body["operation"].as_str()), (Some("r1"), Some("register")));
        let registered = &body["result"]["accelerator"];
        assert_eq!(registered["source"], "api");
        assert_eq!(registered["health"]["value"]["healthy"], true, "{registered}");
        assert_eq!(registered["health"]["value"]["detail"], "exit status 0: 4 chips ok");
        let (_, after) = allocate(&app, ask_tpu.clone()).await;
        assert_eq!(after["result"]["success"], true, "the TPU is offered at once: {after}");
    }
    let (_s, app) = start(&dir);
    let (st, body) = accel(&app, json!({"operation": "list"})).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let local = &body["result"]["nodes"][0];
    assert_eq!(local["node"], "local");
    assert_eq!(local["registered"].as_array().map(Vec::len), Some(1), "listed once: {local}");
    assert_eq!(
        local["registered"][0]["spec"],
        tpu("tpu0")
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o.insert("node".into(), json!("local"));
                Value::Object(o)
            })
            .unwrap()
    );
    // The fake NVML's two GPUs, joined by two NVLinks on one PCIe switch.
    assert_eq!(local["gpus"]["value"].as_array().map(Vec::len), Some(2), "{local}");
    assert_eq!(local["gpus"]["value"][1]["compute_capability"]["value"], "9.0");
    assert_eq!(
        local["gpu_links"]["value"],
        json!([{"a": 0, "b": 1, "nvlinks": 2, "pcie": {"status": "available", "value": "single_switch"}}])
    );
    let (_, again) = allocate(&app, ask_tpu).await;
    assert_eq!(again["result"]["success"], true, "still offered after a restart: {again}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lavapipe_is_characterized_stored_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let (_s, app) = start(&dir);
    let (st, body) = accel(&app, json!({"operation": "characterize", "adapter": "llvmpipe"})).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let c = &body["result"]["characterizations"][0];
    assert_eq!(c["adapter"]["is_software"], true);
    assert!(c["measured_at_ms"].as_i64().unwrap() > 0);
    assert_eq!(c["kernels"][0]["kernel"], "matmul_f32");
    assert_eq!(c["kernels"][0]["result"]["status"], "available", "{c}");
    assert!(c["published"].is_null(), "no vendor figure for a software rasterizer");
    let (_, list) = accel(&app, json!({"operation": "list"})).await;
    assert_eq!(&list["result"]["nodes"][0]["characterizations"][0], c);
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_work_is_placed_on_a_free_gpu_and_a_busy_one_refuses_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (_s, app) = start(&dir);
    let gpu_job = |id: &str, model: &str| {
        json!({"id": id, "owner": "ann", "resources": {"gpus": 1, "cores": 1, "memory_bytes": 1048576},
               "constraints": {"gpu_model": model}})
    };
    // GPU 1 is taken; a second job asking for GPU 1's model waits although GPU 0 is free.
    let (_, a) = allocate(&app, gpu_job("holder", "Fake NVIDIA GPU 1")).await;
    assert_eq!(a["result"]["state"], "running", "{a}");
    let (_, b) = allocate(&app, gpu_job("waiter", "Fake NVIDIA GPU 1")).await;
    assert_eq!(b["result"]["state"], "pending", "{b}");
    let place = |gpu: &str| json!({"operation": "place", "placement": {"allocation_id": "waiter", "node": "local", "gpu": gpu}});
    let (st, refused) = accel(&app, place("local/gpu1")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(refused["result"]["success"], false, "{refused}");
    assert!(refused["result"]["error"].as_str().unwrap().starts_with("cannot start now"), "{refused}");
    let (_, placed) = accel(&app, place("local/gpu0")).await;
    assert_eq!(placed["result"]["success"], true, "{placed}");
    assert_eq!(placed["result"]["allocated_resources"]["gpus"], json!(["local/gpu0"]));
    let (_, all) = common::call(&app, "GET", "/api/allocations", None).await;
    let waiter = all.as_array().unwrap().iter().find(|a| a["id"] == "waiter").unwrap();
    assert_eq!(waiter["state"], "cancelled", "the pending one is replaced: {waiter}");
    // Only pending work can be placed.
    let (st, body) =
        accel(&app, json!({"operation": "place", "placement": {"allocation_id": "holder", "node": "local"}})).await;
    assert_eq!((st, fields(&body)), (StatusCode::BAD_REQUEST, vec!["placement.allocation_id"]));
}
