//! `promtool check metrics` (Debian's `prometheus` package) on an exposition: the tests of both
//! `/metrics` endpoints hold them to what Prometheus' own linter accepts.

use std::io::Write;
use std::process::{Command, Stdio};

/// Ok when promtool accepts `text` (Prometheus text format) without a complaint.
pub fn promtool_check(text: &str) -> Result<(), String> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run promtool ({e}): install the Debian package `prometheus`"))?;
    let mut stdin = child.stdin.take().ok_or("promtool has no stdin")?;
    stdin.write_all(text.as_bytes()).map_err(|e| format!("writing to promtool: {e}"))?;
    drop(stdin);
    let out = child.wait_with_output().map_err(|e| format!("waiting for promtool: {e}"))?;
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() && said.trim().is_empty() { Ok(()) } else { Err(said) }
}
