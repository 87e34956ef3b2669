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
/// [`enumerate_adapters_in_child`]: when started as the probe, it answers and exits.
pub fn serve_adapter_probe_if_asked() {
    if std::env::var_os(PROBE_ENV).is_some() {
        let reading = enumerate_adapters();
        println!("{}", serde_json::to_string(&reading).unwrap_or_default());
        std::process::exit(0);
    }
}

/// Runs `exe` as the adapter probe and returns what it found, or why it could not.
pub fn enumerate_adapters_in_child(exe: &Path) -> Reading<Vec<Adapter>> {
    if std::env::var_os(PROBE_ENV).is_some() {
        // We are a probe whose binary does not serve it: never recurse.
        return Reading::unavailable("adapter probe started by a binary that does not serve it");
    }
    let mut child = match Command::new(exe)
        .env(PROBE_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Reading::unavailable(format!("cannot start the adapter probe {}: {e}", exe.display())),
    };
    let deadline = Instant::now() + PROBE_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Reading::unavailable("the graphics driver did not answer within 30 s");
            }
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    parse_probe_output(&out)
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
