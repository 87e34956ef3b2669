//! A registered accelerator's health check: its command run on this machine with a time
//! limit; exit status 0 is healthy. Results are kept a short while, so listing the
//! accelerators does not run every check each time.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::body::HealthCheck;

/// A check that runs longer is unhealthy (and killed).
const TIME_LIMIT: Duration = Duration::from_secs(10);
/// How long a result stands before the check runs again.
pub(crate) const FRESH_MS: i64 = 30_000;

/// Runs `argv`; `now_ms` stamps the result.
pub(crate) fn run_check(argv: &[String], now_ms: i64) -> HealthCheck {
    let (healthy, detail) = match outcome(argv) {
        Ok((0, line)) => (true, with_line("exit status 0", &line)),
        Ok((code, line)) => (false, with_line(&format!("exit status {code}"), &line)),
        Err(e) => (false, e),
    };
    HealthCheck { healthy, detail, checked_at_ms: now_ms }
}

fn with_line(status: &str, line: &str) -> String {
    if line.is_empty() { status.to_string() } else { format!("{status}: {line}") }
}

/// The exit code and the last non-empty output line (stdout, else stderr), or why it did not run.
fn outcome(argv: &[String]) -> Result<(i32, String), String> {
    let (program, args) = argv.split_first().ok_or("no command")?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program:?}: {e}"))?;
    let readers = [child.stdout.take().map(reader), child.stderr.take().map(reader)];
    let deadline = Instant::now() + TIME_LIMIT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {} s (killed)", TIME_LIMIT.as_secs()));
            }
        }
    };
    let outputs: Vec<String> = readers.into_iter().flatten().map(|r| r.join().unwrap_or_default()).collect();
    let line = outputs.iter().find_map(|o| o.lines().rev().find(|l| !l.trim().is_empty())).unwrap_or("");
    let code = status.code().unwrap_or(-1);
    Ok((code, line.chars().take(200).collect()))
}

fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = pipe.read_to_string(&mut out);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn exit_status_and_last_line_decide() {
        let ok = run_check(&argv(&["sh", "-c", "echo checking; echo all 4 cores ok"]), 7);
        assert_eq!(ok, HealthCheck { healthy: true, detail: "exit status 0: all 4 cores ok".into(), checked_at_ms: 7 });
        let bad = run_check(&argv(&["sh", "-c", "echo link down >&2; exit 3"]), 7);
        assert!(!bad.healthy);
        assert_eq!(bad.detail, "exit status 3: link down");
        let missing = run_check(&argv(&["/nonexistent/tpu-check"]), 7);
        assert!(!missing.healthy && missing.detail.starts_with("cannot run"), "{missing:?}");
    }
}
