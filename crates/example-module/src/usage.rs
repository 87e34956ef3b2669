//! This process's own usage from procfs: CPU time between two reports (as millicores) and
//! resident memory. Read, never estimated: a value procfs does not give is `None`.

use std::time::Instant;

pub struct SelfUsage {
    last: Option<(Instant, u64)>,
    ticks_per_s: u64,
    page_bytes: u64,
}

impl SelfUsage {
    pub fn new() -> Self {
        // SAFETY: sysconf reads a constant of the running system.
        let (ticks, page) = unsafe { (libc::sysconf(libc::_SC_CLK_TCK), libc::sysconf(libc::_SC_PAGESIZE)) };
        SelfUsage { last: None, ticks_per_s: ticks.max(1) as u64, page_bytes: page.max(1) as u64 }
    }

    /// Millicores used since the previous call; `None` on the first.
    pub fn cpu_millis(&mut self) -> Option<u32> {
        let ticks = cpu_ticks()?;
        let now = Instant::now();
        let before = self.last.replace((now, ticks));
        let (then, old) = before?;
        let secs = now.duration_since(then).as_secs_f64();
        let used = ticks.saturating_sub(old) as f64 / self.ticks_per_s as f64;
        (secs > 0.0).then(|| (used / secs * 1000.0).round() as u32)
    }

    pub fn memory_bytes(&self) -> Option<u64> {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        Some(statm.split_whitespace().nth(1)?.parse::<u64>().ok()? * self.page_bytes)
    }
}

/// utime + stime of this process, in clock ticks.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which may hold spaces, closed by the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}
