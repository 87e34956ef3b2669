//! `stewardctl serve` as a real process: history survives kill -9, a second server on the same
//! database is refused with a clear error, and a corrupt database is left untouched.

use std::time::Duration;

use steward_system_tests::{Server, serve_refusal, wait_for};

fn history_points(server: &Server, series: &str) -> usize {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    // 10 minutes in ≤ 600 buckets: one bucket per raw second.
    let q = format!(r#"{{"series":["{series}"],"from_ms":{},"to_ms":{},"max_points":600}}"#, now - 600_000, now);
    let (status, body) = server.post("/api/history", &q).unwrap();
    assert_eq!(status, 200, "{body}");
    body[0]["points"].as_array().map_or(0, Vec::len)
}

#[test]
fn history_survives_kill_9_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    let server = Server::start(&db).unwrap();
    // The sampler writes a batch every 5 s; wait until history holds some samples.
    let before = wait_for(Duration::from_secs(30), || {
        let n = history_points(&server, "mem.used");
        (n >= 2).then_some(n)
    })
    .expect("history never filled");
    server.kill9().unwrap();

    let server = Server::start(&db).unwrap();
    let after = history_points(&server, "mem.used");
    assert!(after >= before, "lost history across kill -9: {before} points before, {after} after");
}

#[test]
fn a_second_server_on_the_same_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let _first = Server::start(&db).unwrap();
    let err = serve_refusal(&db);
    assert!(err.contains("in use by another Steward"), "unclear error: {err}");
}

#[test]
fn a_corrupt_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("corrupt.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    let err = serve_refusal(&db);
    assert!(err.contains("not a usable Steward database"), "unclear error: {err}");
    assert_eq!(std::fs::read(&db).unwrap(), garbage, "the corrupt file was modified");
}

#[test]
fn graphics_drivers_stay_out_of_the_server_process() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("probe.db")).unwrap();
    let (status, inv) = server.get("/api/inventory").unwrap();
    assert_eq!(status, 200);
    let adapters = &inv["adapters"];
    // Either adapters were found (Mesa's llvmpipe here) or the reason is said.
    assert!(adapters["value"].is_array() || adapters["reason"].is_string(), "{adapters}");
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", server.child.id())).unwrap();
    for lib in ["libLLVM", "libvulkan_", "libEGL_mesa", "libGLX_mesa"] {
        assert!(!maps.contains(lib), "the server mapped {lib}: adapters must be probed in a child");
    }
}
