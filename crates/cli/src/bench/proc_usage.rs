//! CPU time and memory of another process, from /proc.

use anyhow::{Context, Result};

/// Linux reports utime/stime in USER_HZ ticks, which is 100 on every mainstream architecture.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// User + system CPU time so far, in seconds.
    pub cpu_s: f64,
    pub rss_bytes: u64,
    /// Peak resident set size.
    pub rss_peak_bytes: u64,
}

pub fn read(pid: u32) -> Result<Usage> {
    let stat =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).with_context(|| format!("process {pid} is gone"))?;
    // The command name (field 2) may hold spaces; fields after its closing ')' are plain.
    let after = stat.rsplit_once(')').map(|(_, r)| r).context("unexpected /proc/pid/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64> { Ok(fields.get(i).context("short stat")?.parse::<f64>()?) };
    // After ')': state is index 0, so utime (field 14) is index 11 and stime index 12.
    let cpu_s = (ticks(11)? + ticks(12)?) / TICKS_PER_SECOND;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    Ok(Usage { cpu_s, rss_bytes: kib("VmRSS:") * 1024, rss_peak_bytes: kib("VmHWM:") * 1024 })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_our_own_usage() {
        let u = super::read(std::process::id()).unwrap();
        assert!(u.rss_bytes > 0 && u.rss_peak_bytes >= u.rss_bytes);
        assert!(u.cpu_s >= 0.0);
    }
}
