//! How a task ended, in words that name the cause: the signal by name, the memory limit it
//! exceeded (the cgroup's OOM kill counter), the timeout, the missing working directory.

use std::path::Path;

/// Linux signal names by number (x86-64, arm64 and most others share 1–31).
const SIGNALS: [&str; 32] = [
    "",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

pub fn signal_name(signal: i32) -> String {
    match usize::try_from(signal).ok().and_then(|i| SIGNALS.get(i)).filter(|n| !n.is_empty()) {
        Some(name) => (*name).to_string(),
        None => format!("signal {signal}"),
    }
}

/// `exited with status 3`, `killed by SIGKILL`.
pub fn exit_cause(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(s)) => format!("killed by {}", signal_name(s)),
        (None, None) => "ended without an exit status".into(),
    }
}

/// `exceeded its memory limit of 100 MiB (OOM): killed by SIGKILL`.
pub fn oom_cause(limit_bytes: u64, exit: &str) -> String {
    format!("exceeded its memory limit of {} (OOM): {exit}", human_bytes(limit_bytes))
}

/// `timed out after 8 s` (whole seconds), `timed out after 1500 ms` otherwise.
pub fn timeout_cause(timeout_ms: u64) -> String {
    if timeout_ms.is_multiple_of(1000) {
        format!("timed out after {} s", timeout_ms / 1000)
    } else {
        format!("timed out after {timeout_ms} ms")
    }
}

/// The largest binary unit that divides `bytes` exactly, so the limit reads as it was set.
pub fn human_bytes(bytes: u64) -> String {
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// Why the task cannot start in `working_dir`, checked before spawning: the spawn error alone
/// (`No such file or directory`) blames the program.
pub fn working_dir_problem(working_dir: &str) -> Option<String> {
    if working_dir.is_empty() {
        return None;
    }
    match std::fs::metadata(working_dir) {
        Ok(m) if m.is_dir() => None,
        Ok(_) => Some(format!("working_dir {working_dir} is not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(format!("working_dir {working_dir} does not exist")),
        Err(e) => Some(format!("working_dir {working_dir}: {e}")),
    }
}

/// OOM kills recorded by a memory cgroup: cgroup v2 `memory.events` (`oom_kill N`), cgroup v1
/// `memory.oom_control` (`oom_kill N`, kernel 4.13+) or, on older kernels, `memory.failcnt`
/// (times the limit was hit, counted as a kill only when the task died of SIGKILL).
pub fn oom_kills(memory_cgroup: &Path, killed_by_sigkill: bool) -> u64 {
    let read = |f: &str| std::fs::read_to_string(memory_cgroup.join(f)).ok();
    if let Some(n) = read("memory.events").as_deref().and_then(|t| counter(t, "oom_kill")) {
        return n;
    }
    if let Some(n) = read("memory.oom_control").as_deref().and_then(|t| counter(t, "oom_kill")) {
        return n;
    }
    let failures = read("memory.failcnt").and_then(|t| t.trim().parse::<u64>().ok()).unwrap_or(0);
    if killed_by_sigkill { failures.min(1) } else { 0 }
}

/// The value of `key` in a flat-keyed cgroup file (`key value` per line).
fn counter(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_and_limits_read_as_their_names() {
        assert_eq!(exit_cause(None, Some(9)), "killed by SIGKILL");
        assert_eq!(exit_cause(None, Some(13)), "killed by SIGPIPE");
        assert_eq!(exit_cause(None, Some(64)), "killed by signal 64");
        assert_eq!(exit_cause(Some(3), None), "exited with status 3");
        assert_eq!(
            oom_cause(100 << 20, "killed by SIGKILL"),
            "exceeded its memory limit of 100 MiB (OOM): killed by SIGKILL"
        );
        assert_eq!(human_bytes(1536), "1536 bytes");
        assert_eq!(human_bytes(3 << 30), "3 GiB");
        assert_eq!(timeout_cause(8000), "timed out after 8 s");
        assert_eq!(timeout_cause(1500), "timed out after 1500 ms");
    }

    #[test]
    fn a_missing_working_dir_is_named() {
        assert_eq!(working_dir_problem("/no/such/dir").unwrap(), "working_dir /no/such/dir does not exist");
        assert_eq!(working_dir_problem("/etc/hostname").unwrap(), "working_dir /etc/hostname is not a directory");
        assert_eq!(working_dir_problem("/tmp"), None);
        assert_eq!(working_dir_problem(""), None);
    }

    /// cgroup v2 and v1 counter files as the kernel writes them (fixtures).
    #[test]
    fn oom_kills_come_from_v2_events_then_v1_oom_control_then_failcnt() {
        let v2 = tempfile::tempdir().unwrap();
        std::fs::write(v2.path().join("memory.events"), "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n")
            .unwrap();
        assert_eq!(oom_kills(v2.path(), false), 1);
        std::fs::write(v2.path().join("memory.events"), "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n").unwrap();
        assert_eq!(oom_kills(v2.path(), true), 0);

        let v1 = tempfile::tempdir().unwrap();
        std::fs::write(v1.path().join("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n").unwrap();
        assert_eq!(oom_kills(v1.path(), false), 2);

        let old = tempfile::tempdir().unwrap();
        std::fs::write(old.path().join("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\n").unwrap();
        std::fs::write(old.path().join("memory.failcnt"), "37\n").unwrap();
        assert_eq!(oom_kills(old.path(), true), 1);
        assert_eq!(oom_kills(old.path(), false), 0, "hitting the limit (reclaim) is no kill by itself");
    }
}
