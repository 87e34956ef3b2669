//! CPU usage (per core and total) from `/proc/stat`, load from `/proc/loadavg`, per-core
//! frequency from cpufreq's `scaling_cur_freq` or, without cpufreq, `cpu MHz` in `/proc/cpuinfo`.

use std::path::{Path, PathBuf};

use steward_core::{CpuStats, Reading, Snapshot};

use crate::sysfs::{read_into, read_string, under};
use crate::{Collector, Cost, TelemetryError};

/// Cumulative jiffies of one `cpu` line: (busy, total).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    pub busy: u64,
    pub total: u64,
}

/// Parsed `/proc/stat` cpu lines: the aggregate line and one per logical core, in core order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatCpu {
    pub total: CpuTimes,
    pub cores: Vec<CpuTimes>,
}

pub fn parse_proc_stat(text: &str) -> Option<StatCpu> {
    let mut out = StatCpu::default();
    let mut saw_total = false;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("cpu") else { continue };
        let mut fields = rest.split_ascii_whitespace();
        let label = if rest.starts_with(' ') { "" } else { fields.next()? };
        // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is
        // already counted in user/nice, so it is left out of the total.
        let mut v = [0u64; 8];
        let mut n = 0;
        for (slot, f) in v.iter_mut().zip(fields.by_ref()) {
            *slot = f.parse().ok()?;
            n += 1;
        }
        if n < 4 {
            return None;
        }
        let total: u64 = v.iter().sum();
        let idle = v[3] + v[4];
        let times = CpuTimes { busy: total - idle, total };
        if label.is_empty() {
            out.total = times;
            saw_total = true;
        } else {
            out.cores.push(times);
        }
    }
    saw_total.then_some(out)
}

pub fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut it = text.split_ascii_whitespace().map(|f| f.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// `cpu MHz` of each processor in `/proc/cpuinfo`, in processor order.
pub fn parse_cpuinfo_mhz(text: &str) -> Vec<u64> {
    text.lines()
        .filter(|l| l.starts_with("cpu MHz"))
        .filter_map(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
        .map(|mhz| mhz.round() as u64)
        .collect()
}

/// Busy percentage between two samples of the same counter.
pub fn busy_pct(prev: CpuTimes, now: CpuTimes) -> Option<f64> {
    let total = now.total.checked_sub(prev.total)?;
    let busy = now.busy.checked_sub(prev.busy)?;
    (total > 0).then(|| (busy as f64 * 100.0 / total as f64).clamp(0.0, 100.0))
}

pub struct CpuCollector {
    root: PathBuf,
    prev: Option<StatCpu>,
    buf: String,
}

impl CpuCollector {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        CpuCollector { root: root.into(), prev: None, buf: String::new() }
    }

    fn sample(&mut self) -> Result<Reading<CpuStats>, TelemetryError> {
        let stat_path = under(&self.root, "/proc/stat");
        read_into(&stat_path, &mut self.buf)?;
        let now =
            parse_proc_stat(&self.buf).ok_or_else(|| TelemetryError::parse(&stat_path, "no parsable cpu lines"))?;
        let Some(prev) = self.prev.replace(now.clone()) else {
            return Ok(Reading::unavailable("CPU usage needs two samples; it appears with the next one"));
        };
        let load_path = under(&self.root, "/proc/loadavg");
        let load = read_string(&load_path)?;
        let load_avg =
            parse_loadavg(&load).ok_or_else(|| TelemetryError::parse(&load_path, "expected three load averages"))?;
        let Some(total_pct) = busy_pct(prev.total, now.total) else {
            return Ok(Reading::unavailable("no CPU time elapsed since the previous sample"));
        };
        // A core that went offline/online between samples has no meaningful delta: report 0 busy
        // only when the counters say so, otherwise drop the per-core list to the ones we can pair.
        let per_core_pct =
            now.cores.iter().zip(prev.cores.iter()).map(|(n, p)| busy_pct(*p, *n).unwrap_or(0.0)).collect();
        Ok(Reading::from(CpuStats {
            total_pct,
            per_core_pct,
            load_avg,
            frequency_mhz: frequencies(&self.root, now.cores.len(), &mut self.buf),
        }))
    }
}

fn frequencies(root: &Path, cores: usize, buf: &mut String) -> Reading<Vec<u64>> {
    let mut khz = Vec::with_capacity(cores);
    for i in 0..cores {
        let p = under(root, &format!("/sys/devices/system/cpu/cpu{i}/cpufreq/scaling_cur_freq"));
        match read_into(&p, buf).ok().and_then(|_| buf.trim().parse::<u64>().ok()) {
            Some(v) => khz.push((v + 500) / 1000),
            None => break,
        }
    }
    if cores > 0 && khz.len() == cores {
        return Reading::from(khz);
    }
    if read_into(&under(root, "/proc/cpuinfo"), buf).is_ok() {
        let mhz = parse_cpuinfo_mhz(buf);
        if !mhz.is_empty() {
            return Reading::from(mhz);
        }
    }
    Reading::unavailable(
        "the kernel exposes no per-core frequency (no cpufreq scaling_cur_freq, no 'cpu MHz' in /proc/cpuinfo)",
    )
}

impl Collector for CpuCollector {
    fn name(&self) -> &'static str {
        "cpu"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, _now_ms: i64, snap: &mut Snapshot) {
        snap.cpu = self.sample().unwrap_or_else(|e| Reading::unavailable(e.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn parses_proc_stat_from_a_real_kernel() {
        let text = std::fs::read_to_string(fixture("x86_64_a/proc/stat")).unwrap();
        let s = parse_proc_stat(&text).unwrap();
        assert_eq!(s.cores.len(), 4);
        // cpu  74608 2520 24433 1117073 6176 4054 2014 0 0 0
        assert_eq!(
            s.total,
            CpuTimes {
                busy: 74608 + 2520 + 24433 + 4054 + 2014,
                total: 74608 + 2520 + 24433 + 1117073 + 6176 + 4054 + 2014
            }
        );
        assert_eq!(s.cores[3].total, 18452 + 650 + 6130 + 279584 + 1472 + 1013 + 503);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_proc_stat("intr 1 2 3\n"), None);
        assert_eq!(parse_proc_stat("cpu  a b c d\n"), None);
        assert_eq!(parse_loadavg("0.5 0.2\n"), None);
        assert_eq!(parse_loadavg("0.52 0.58 0.59 2/412 12345\n"), Some([0.52, 0.58, 0.59]));
    }

    #[test]
    fn busy_pct_between_samples() {
        let a = CpuTimes { busy: 100, total: 1000 };
        let b = CpuTimes { busy: 150, total: 1200 };
        assert_eq!(busy_pct(a, b), Some(25.0));
        assert_eq!(busy_pct(a, a), None);
        assert_eq!(busy_pct(b, a), None);
    }

    #[test]
    fn cpuinfo_mhz() {
        let text = std::fs::read_to_string(fixture("x86_64_a/proc/cpuinfo")).unwrap();
        assert_eq!(parse_cpuinfo_mhz(&text), vec![2900, 3400, 800, 1200]);
    }

    #[test]
    fn collector_first_sample_is_unavailable_then_available() {
        let mut c = CpuCollector::new(fixture("x86_64_a"));
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        assert!(snap.cpu.reason().unwrap().contains("two samples"));
        // Same counters again: no time elapsed.
        c.collect(1000, &mut snap);
        assert!(snap.cpu.reason().unwrap().contains("no CPU time"));
        // Missing root: the reason names the file.
        let mut c = CpuCollector::new(fixture("does-not-exist"));
        c.collect(0, &mut snap);
        assert!(snap.cpu.reason().unwrap().contains("/proc/stat"), "{:?}", snap.cpu);
    }

    #[test]
    fn frequencies_prefer_cpufreq_then_cpuinfo() {
        let mut buf = String::new();
        // x86_64_a has cpufreq for all 4 cores.
        assert_eq!(frequencies(&fixture("x86_64_a"), 4, &mut buf), Reading::from(vec![3400, 3400, 800, 1200]));
        // vm_a has no cpufreq: falls back to /proc/cpuinfo.
        assert_eq!(frequencies(&fixture("vm_a"), 2, &mut buf), Reading::from(vec![2445, 2445]));
        assert!(frequencies(&fixture("empty"), 2, &mut buf).reason().is_some());
    }
}
