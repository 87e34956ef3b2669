//! The module API end to end in one process: a real `Steward` on a temporary SQLite file, its
//! module socket served over real gRPC on a Unix socket, and the `steward-module` client —
//! register, report, a directive and its ack, lost after three silent intervals, deregister,
//! and a client that registers again by itself after the control center restarts.

use std::path::Path;
use std::time::{Duration, Instant};

use steward_api::{
    AdapterProbe, ApiConfig, Directive, ModuleEndpoint, ModuleState, ModuleStatus, Steward, bind_module_socket,
};
use steward_module::{
    Ack, Criticality, Feature, ModuleClient, ModuleError, QualityLevel, Registration, Target, UsageReport,
};
use tokio::sync::oneshot;

const TOKEN: &str = "module-api-test-token-0123456789abcdef";

async fn steward(db: &Path) -> Steward {
    let mut config = ApiConfig { db_path: db.to_owned(), adapter_probe: AdapterProbe::Skip, ..ApiConfig::default() };
    config.sampler.gpus = false;
    config.refit_forecasts = false;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Steward::start(config.clone()) {
            Ok(s) => return s,
            // The previous instance's database lock may still be held for a moment.
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Serves `s`'s module hub on `socket` until the returned sender is dropped or fired.
async fn serve(s: &Steward, socket: &Path) -> oneshot::Sender<()> {
    let bound = bind_module_socket(socket).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let endpoint = ModuleEndpoint::new(s.module_hub());
    tokio::spawn(async move {
        bound
            .serve(endpoint, TOKEN, async {
                let _ = stopped.await;
            })
            .await
    });
    stop
}

fn registration(interval_ms: u32) -> Registration {
    let level = |level: u32| QualityLevel {
        level,
        label: format!("{} fps", 30 >> level),
        cpu_millis: Some(800 >> level),
        memory_bytes: None,
        gpu_memory_bytes: None,
    };
    Registration {
        name: "vision".into(),
        role: "perception".into(),
        criticality: Criticality::High,
        features: vec![Feature { name: "depth".into(), rank: 1 }],
        quality_levels: vec![level(0), level(1), level(2)],
        minimal_level: 2,
        pids: vec![std::process::id()],
        report_interval_ms: interval_ms,
    }
}

fn report(goodput_total: u64) -> UsageReport {
    UsageReport {
        cpu_millis: Some(250),
        memory_bytes: Some(10 << 20),
        gpu_memory_bytes: None,
        healthy: true,
        quality_level: 0,
        features_on: vec!["depth".into()],
        goodput_total: Some(goodput_total),
        latency_ms: Some(12.5),
    }
}

/// Polls `s`'s registered modules until `vision` satisfies `ok`.
async fn until(s: &Steward, what: &str, ok: impl Fn(&ModuleStatus) -> bool) -> ModuleStatus {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = s.registered_modules().into_iter().find(|m| m.registration.name == "vision");
        match found {
            Some(m) if ok(&m) => return m,
            _ if Instant::now() > deadline => panic!("never {what}: {found:?}"),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_registers_reports_follows_a_directive_and_deregisters() {
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir.path().join("s.db")).await;
    let socket = dir.path().join("modules.sock");
    let _stop = serve(&s, &socket).await;
    let target = Target::Unix(socket.clone());

    let intruder = ModuleClient::connect(&target, "not-the-token-0123456789abcdef").await.unwrap();
    let refused = intruder.register(&registration(200)).await.unwrap_err();
    assert!(matches!(refused, ModuleError::Refused { code: tonic::Code::Unauthenticated, .. }), "{refused}");
    let mut bad = registration(200);
    bad.minimal_level = 7;
    let client = ModuleClient::connect(&target, TOKEN).await.unwrap();
    let invalid = client.register(&bad).await.unwrap_err().to_string();
    assert!(invalid.contains("minimal_level"), "{invalid}");

    let (mut conn, mut directives) = steward_module::start(target, TOKEN.into(), registration(200));
    assert_eq!(conn.registered().await, "local");
    conn.report(report(100));
    until(&s, "reported", |m| m.report == Some(report(100))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.report(report(400));
    // The same counter sent again is a rate of 0; the new one a positive rate.
    until(&s, "given a goodput", |m| m.goodput_per_s.is_some_and(|g| g > 0.0)).await;
    let profiled = s.modules().into_iter().find(|m| m.name == "vision").expect("joined to the profiler");
    assert_eq!(
        profiled.matchers,
        vec![steward_core::profile::module::Matcher::Pids { pids: vec![std::process::id()] }]
    );

    let sent = s.direct_module("local", "vision", Directive::SetQuality { level: 1 }, "memory at 80%".into()).unwrap();
    let received = tokio::time::timeout(Duration::from_secs(5), directives.recv()).await.unwrap().unwrap();
    assert_eq!(received, sent);
    conn.ack(received.id, Ack::Refused { reason: "mid-frame".into() });
    let m = until(&s, "acknowledged", |m| m.directives.iter().any(|d| d.ack.is_some())).await;
    assert_eq!(m.directives[0].ack, Some(Ack::Refused { reason: "mid-frame".into() }));

    conn.deregister().await;
    let m = until(&s, "deregistered", |m| m.state == ModuleState::Deregistered).await;
    assert!(s.modules().iter().all(|p| p.name != "vision"), "a deregistered module is not profiled: {m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_silent_for_three_intervals_is_lost_and_a_report_brings_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = steward(&dir.path().join("s.db")).await;
    let socket = dir.path().join("modules.sock");
    let _stop = serve(&s, &socket).await;
    let client = ModuleClient::connect(&Target::Unix(socket), TOKEN).await.unwrap();
    client.register(&registration(300)).await.unwrap();
    let reported = Instant::now();
    client.report("vision", &report(1)).await.unwrap();
    let lost = until(&s, "lost", |m| m.state == ModuleState::Lost).await;
    let after = reported.elapsed();
    assert!(after >= Duration::from_millis(900), "lost after {after:?}, before three intervals of 300 ms");
    assert!(after < Duration::from_millis(2000), "lost only after {after:?}");
    assert_eq!(lost.lost_reason.as_deref(), Some("no report for 3 intervals (900 ms)"));
    client.report("vision", &report(2)).await.unwrap();
    until(&s, "active again", |m| m.state == ModuleState::Active).await;
    let gone = client.report("nobody", &report(1)).await.unwrap_err();
    assert!(matches!(gone, ModuleError::NotRegistered(_)), "{gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_registers_again_by_itself_after_the_control_center_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (db, socket) = (dir.path().join("s.db"), dir.path().join("modules.sock"));
    let s = steward(&db).await;
    let stop = serve(&s, &socket).await;
    let (mut conn, mut directives) =
        steward_module::start(Target::Unix(socket.clone()), TOKEN.into(), registration(200));
    conn.registered().await;
    conn.report(report(5));
    until(&s, "reported", |m| m.report.is_some()).await;
    let first = s.direct_module("local", "vision", Directive::Pause, "test".into()).unwrap();
    assert_eq!(directives.recv().await.unwrap(), first);

    let _ = stop.send(());
    s.shutdown();
    drop(s);
    let s = steward(&db).await;
    assert_eq!(s.registered_modules().len(), 1, "the registration outlived the restart");
    let _stop = serve(&s, &socket).await;
    // The unacknowledged directive is offered again but passed on once; numbering goes on.
    let second = s.direct_module("local", "vision", Directive::Resume, "test".into()).unwrap();
    assert_eq!(second.id, first.id + 1);
    let next = tokio::time::timeout(Duration::from_secs(10), directives.recv()).await.unwrap().unwrap();
    assert_eq!(next, second);
    until(&s, "reporting to the new instance", |m| m.state == ModuleState::Active && m.last_report_ms.is_some()).await;
}
