//! Adapter enumeration in a short-lived child process.
//!
//! Loading Vulkan and GL drivers maps them into the process for good — Mesa's llvmpipe alone
//! brings ~45 MB of libLLVM — and a broken driver can crash its host. A long-running control
//! center therefore asks a child: its own executable, started with [`PROBE_ENV`] set, which
//! enumerates, prints the result as JSON and exits.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use steward_core::{Adapter, Reading};

use crate::adapters::enumerate_adapters;

/// Set in the child's environment: "enumerate adapters, print JSON, exit".
pub const PROBE_ENV: &str = "STEWARD_ADAPTER_PROBE";
/// A driver that hangs must not hang start-up.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Call first thing in `main` of every binary that passes its own path to
/// [`enumerate_adapters_in_child`] (or to the benchmark's child): when started as the probe
/// or the benchmark, it answers and exits.
pub fn serve_adapter_probe_if_asked() {
    crate::accel_bench::child::serve_benchmark_if_asked();
    if std::env::var_os(PROBE_ENV).is_some() {
        let reading = enumerate_adapters();
        println!("{}", serde_json::to_string(&reading).unwrap_or_default());
        std::process::exit(0);
    }
}

/// Runs `exe` as the adapter probe and returns what it found, or why it could not.
pub fn enumerate_adapters_in_child(exe: &Path) -> Reading<Vec<Adapter>> {
    match run_child(exe, (PROBE_ENV, "1"), PROBE_TIMEOUT) {
        Ok(out) => parse_probe_output(&out),
        Err(reason) => Reading::unavailable(reason),
    }
}

/// Runs `exe` with `env` set (a probe mode it serves first thing in `main`) and returns its
/// stdout, or why there is none: it could not start, or it ran past `timeout` and was killed.
pub(crate) fn run_child(exe: &Path, env: (&str, &str), timeout: Duration) -> Result<String, String> {
    if std::env::var_os(env.0).is_some() {
        // We are a probe whose binary does not serve it: never recurse.
        return Err("adapter probe started by a binary that does not serve it".into());
    }
    let mut child = Command::new(exe)
        .env(env.0, env.1)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the adapter probe {}: {e}", exe.display()))?;
    // Read while waiting: a large answer must not block the child on a full pipe.
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_string(&mut out);
        }
        out
    });
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the graphics driver did not answer within {} s", timeout.as_secs()));
            }
        }
    }
    reader.join().map_err(|_| "the adapter probe's output could not be read".to_string())
}

/// The probe's answer is its last stdout line (drivers may print before it).
fn parse_probe_output(out: &str) -> Reading<Vec<Adapter>> {
    let line = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|_| {
        Reading::unavailable("the adapter probe crashed or answered nonsense (broken graphics driver?)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_last_json_line_and_rejects_garbage() {
        let out = "mesa: warning\n{\"status\":\"unavailable\",\"reason\":\"none\"}\n";
        assert_eq!(parse_probe_output(out).reason(), Some("none"));
        assert!(parse_probe_output("Segmentation fault").reason().unwrap().contains("crashed"));
    }

    #[test]
    fn a_missing_probe_binary_is_reported() {
        let r = enumerate_adapters_in_child(Path::new("/nonexistent/steward"));
        assert!(r.reason().unwrap().contains("cannot start the adapter probe"));
    }
}
