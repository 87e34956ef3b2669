//! The profiler names real culprits: a CPU burner and a 1.5 GiB memory hog, started as real
//! processes next to a real `stewardctl serve`, are named by PID in the CPU and memory findings,
//! and no finding names them once they have stopped (findings end after the window and a quiet
//! period; other work on a shared machine may keep findings of its own).
//!
//! The thresholds are set through the config file relative to this machine's state at start
//! (this machine has no swap, so the hog stays small and the memory line is drawn just above it).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use steward_system_tests::{Server, wait_for};

const HOG_BYTES: u64 = 1536 << 20;

fn meminfo(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = text.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(script: &str) -> Killed {
    Killed(Command::new("perl").args(["-e", script]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("perl"))
}

fn findings(server: &Server) -> Vec<Value> {
    let (status, body) = server.post("/resources/profile", r#"{"profiling_type":"system"}"#).unwrap();
    assert_eq!(status, 200, "{body}");
    body["result"]["bottlenecks"].as_array().cloned().unwrap_or_default()
}

fn names(f: &Value, pid: u32) -> bool {
    f["culprits"].as_array().is_some_and(|c| c.iter().any(|c| c["pid"].as_u64() == Some(u64::from(pid))))
}

#[test]
fn burner_and_hog_are_named_then_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let (total, available) = (meminfo("MemTotal:"), meminfo("MemAvailable:"));
    assert!(available > 3 * HOG_BYTES, "this test needs about {} GiB free", (3 * HOG_BYTES) >> 30);
    // The memory line sits 0.5 GiB under today's headroom, the hog takes 1.5 GiB: it crosses.
    let headroom_pct = 100.0 * (available - HOG_BYTES / 3) as f64 / total as f64;
    let cores = std::thread::available_parallelism().unwrap().get() as f64;
    // One busy core must be enough to cross the CPU line on this machine.
    let cpu_pct = (100.0 / cores * 0.9).min(90.0);
    let config = dir.path().join("steward.toml");
    std::fs::write(
        &config,
        format!(
            "[profile]\nwindow_ms = 20000\n[profile.thresholds]\ncpu_util_pct = {cpu_pct}\nmem_headroom_pct = {headroom_pct}\nmin_samples = 2\nclear_after_ms = 10000\n"
        ),
    )
    .unwrap();
    let server = Server::start_with(&dir.path().join("s.db"), &["--config".as_ref(), config.as_os_str()]).unwrap();

    let burner = spawn("1 while 1");
    let hog = spawn(&format!("my $x = 'x' x {HOG_BYTES}; sleep 600"));
    let (burner_pid, hog_pid) = (burner.0.id(), hog.0.id());

    // Idle sampling (no UI attached) rescans processes once a minute: allow two rescans.
    let both = wait_for(Duration::from_secs(150), || {
        let f = findings(&server);
        let cpu = f.iter().find(|f| f["resource"] == "cpu" && names(f, burner_pid))?.clone();
        let mem = f.iter().find(|f| f["resource"] == "memory" && names(f, hog_pid))?.clone();
        Some((cpu, mem))
    });
    let (cpu, mem) = both.unwrap_or_else(|| panic!("culprits not named; findings now: {:#?}", findings(&server)));
    assert!(cpu["evidence"].as_array().is_some_and(|e| !e.is_empty()), "{cpu}");
    assert!(mem["evidence"][0]["metric"].as_str().unwrap().contains("mem.available"), "{mem}");
    assert!(!names(&cpu, hog_pid), "the sleeping hog is no CPU culprit: {cpu}");
    assert_eq!(mem["culprits"][0]["pid"].as_u64(), Some(u64::from(hog_pid)), "the hog is the largest: {mem}");

    drop(burner);
    drop(hog);
    // The window (20 s) forgets them, then the quiet period (10 s) ends what they caused. Other
    // work on this machine (a compiler, say) may keep its own findings: those must not name them.
    let gone = wait_for(Duration::from_secs(90), || {
        let f = findings(&server);
        (!f.iter().any(|f| names(f, burner_pid) || names(f, hog_pid))).then_some(f)
    });
    let rest = gone.unwrap_or_else(|| panic!("findings still name the stopped processes: {:#?}", findings(&server)));
    if !rest.is_empty() {
        eprintln!("findings caused by other work on this machine: {rest:#?}");
    }

    // Both findings started as events.
    let (_, events) = server.get("/api/profile/events?since_ms=0").unwrap();
    let events = events.as_array().unwrap();
    let has = |key: &str, kind: &str| events.iter().any(|e| e["key"] == key && e["kind"] == kind);
    assert!(has("cpu", "started") && has("memory", "started"), "{events:#?}");
}
