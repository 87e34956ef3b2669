//! `stewardd` as a real process refuses to guard its tasks with a weak token: an empty
//! `--token ""` (or a blank `STEWARDD_TOKEN=` line), a short or a repetitive one.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use steward_system_tests::binary;

/// Runs `stewardd` with `token` given by `how`; returns what it said if it exited by itself
/// within `wait` (a refusal), or `None` when it was still serving then.
fn refusal(how: &str, token: &str, wait: Duration) -> Option<String> {
    let state = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(binary("stewardd"));
    cmd.args(["--listen", "127.0.0.1:0", "--no-adapters", "--no-tls", "--state-dir"]).arg(state.path());
    match how {
        "flag" => cmd.args(["--token", token]),
        _ => cmd.env("STEWARDD_TOKEN", token),
    };
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            assert!(!out.status.success());
            return Some(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn empty_short_and_low_entropy_tokens_are_refused_at_start() {
    for (how, token) in [("flag", ""), ("env", ""), ("flag", "abc"), ("env", "aaaaaaaaaaaaaaaaaaaa")] {
        let said = refusal(how, token, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("stewardd started with token {token:?} ({how})"));
        assert!(said.contains("weak token") && said.contains("openssl rand -hex 32"), "{how} {token:?}: {said}");
    }
}

#[test]
fn a_strong_token_starts() {
    assert_eq!(refusal("flag", "cluster-test-token-0123456789abcdef", Duration::from_secs(3)), None);
}
