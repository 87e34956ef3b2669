//! Memory and swap from `/proc/meminfo`. "Used" is total minus available, as the kernel's own
//! estimate of reclaimable memory is better than summing buffers/cache ourselves.

use std::path::PathBuf;

#[cfg(test)]
use steward_core::Reading;
use steward_core::{MemoryStats, Snapshot};

use crate::sysfs::{read_into, under};
use crate::{Collector, Cost, TelemetryError};

/// The value of a `Key:   123 kB` line, in bytes.
fn kb_field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        let mut it = rest.split_ascii_whitespace();
        let v: u64 = it.next()?.parse().ok()?;
        Some(match it.next() {
            Some("kB") => v * 1024,
            _ => v,
        })
    })
}

pub fn parse_meminfo(text: &str) -> Option<MemoryStats> {
    let total = kb_field(text, "MemTotal")?;
    // MemAvailable exists since Linux 3.14; older kernels get the classic estimate.
    let available = kb_field(text, "MemAvailable")
        .or_else(|| Some(kb_field(text, "MemFree")? + kb_field(text, "Buffers")? + kb_field(text, "Cached")?))?;
    let swap_total = kb_field(text, "SwapTotal")?;
    let swap_free = kb_field(text, "SwapFree")?;
    Some(MemoryStats {
        total_bytes: total,
        used_bytes: total.saturating_sub(available),
        available_bytes: available,
        swap_total_bytes: swap_total,
        swap_used_bytes: swap_total.saturating_sub(swap_free),
    })
}

pub struct MemoryCollector {
    root: PathBuf,
    buf: String,
}

impl MemoryCollector {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        MemoryCollector { root: root.into(), buf: String::new() }
    }

    fn sample(&mut self) -> Result<MemoryStats, TelemetryError> {
        let path = under(&self.root, "/proc/meminfo");
        read_into(&path, &mut self.buf)?;
        parse_meminfo(&self.buf)
            .ok_or_else(|| TelemetryError::parse(&path, "missing MemTotal/MemAvailable/SwapTotal/SwapFree"))
    }
}

impl Collector for MemoryCollector {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, _now_ms: i64, snap: &mut Snapshot) {
        snap.memory = self.sample().into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn parses_meminfo() {
        let mut c = MemoryCollector::new(fixture("x86_64_a"));
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        assert_eq!(
            snap.memory,
            Reading::from(MemoryStats {
                total_bytes: 16265612 * 1024,
                used_bytes: (16265612 - 9543200) * 1024,
                available_bytes: 9543200 * 1024,
                swap_total_bytes: 2097148 * 1024,
                swap_used_bytes: (2097148 - 1835004) * 1024,
            })
        );
    }

    #[test]
    fn malformed_or_missing_is_unavailable() {
        assert_eq!(parse_meminfo("MemFree: 12 kB\n"), None);
        let mut c = MemoryCollector::new(fixture("empty"));
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        assert!(snap.memory.reason().unwrap().contains("meminfo"));
    }
}
