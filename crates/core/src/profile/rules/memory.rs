//! Memory pressure: little headroom (OOM risk), tasks stalled on memory, swap filling up.

use crate::profile::finding::{Finding, Resource};
use crate::profile::window::Context;

pub const KEY: &str = "memory";

pub fn pressure(ctx: &Context) -> Option<Finding> {
    let t = ctx.thresholds;
    let active = ctx.is_active(KEY);
    let mut evidence = Vec::new();
    let mut firing = 0;
    let mut oom_risk = false;

    let headroom = ctx.mean(|s| {
        s.memory.value().filter(|m| m.total_bytes > 0).map(|m| 100.0 * m.available_bytes as f64 / m.total_bytes as f64)
    });
    if let Some((h, n)) = headroom {
        let line = t.below(t.mem_headroom_pct, active);
        if h < line {
            firing += 1;
            oom_risk = h < t.mem_headroom_pct / 2.0;
            evidence.push(ctx.evidence("mem.available share mean", h, line, "%", n));
        }
    }
    if let Some((p, n)) = ctx.mean(|s| s.pressure.value()?.memory.value().map(|r| r.some.avg10)) {
        let line = t.above(t.mem_psi_some_pct, active);
        if p >= line {
            firing += 1;
            evidence.push(ctx.evidence("psi.memory.some avg10 mean", p, line, "%", n));
        }
    }
    let swap = |s: &crate::Snapshot| {
        s.memory.value().filter(|m| m.swap_total_bytes > 0).map(|m| (s.ts_ms, m.swap_used_bytes as f64))
    };
    if let (Some((t0, a)), Some((t1, b))) = (ctx.samples.iter().find_map(|s| swap(s)), ctx.latest(swap))
        && t1 > t0
    {
        let rate = (b - a) * 1000.0 / (t1 - t0) as f64;
        let line = t.above(t.swap_growth_bps, active);
        if rate >= line {
            firing += 1;
            evidence.push(ctx.evidence("swap.used growth", rate, line, "B/s", ctx.samples.len() as u32));
        }
    }
    if firing == 0 {
        return None;
    }
    let used = ctx
        .mean(|s| s.memory.value().map(|m| (m.total_bytes - m.available_bytes.min(m.total_bytes)) as f64))
        .map_or(0.0, |x| x.0);
    let culprits = ctx.culprits(|p| p.rss_bytes as f64, used, "bytes");
    let who = culprits.first().map(|c| format!("; largest: {} (PID {})", c.name, c.pid)).unwrap_or_default();
    let what =
        if oom_risk { "Memory is nearly exhausted: processes risk the OOM killer" } else { "Memory is under pressure" };
    Some(Finding {
        key: KEY.into(),
        resource: Resource::Memory,
        severity: super::severity(firing, oom_risk),
        summary: format!("{what}{who}"),
        culprits,
        evidence,
        since_ms: ctx.to_ms(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::profile::{Severity, Thresholds};
    use crate::{MemoryStats, ProcessTable};

    const GIB: u64 = 1 << 30;

    fn mem(avail: u64, swap_used: u64) -> crate::Reading<MemoryStats> {
        MemoryStats {
            total_bytes: 16 * GIB,
            used_bytes: 16 * GIB - avail,
            available_bytes: avail,
            swap_total_bytes: 4 * GIB,
            swap_used_bytes: swap_used,
        }
        .into()
    }

    #[test]
    fn low_headroom_names_the_hog_and_warns_of_oom() {
        let w = window(6, |_, s| {
            s.memory = mem(GIB / 2, 0);
            s.processes =
                ProcessTable { count: 2, top: vec![proc(9, "hog", 1.0, 12 * GIB), proc(3, "sh", 0.0, GIB / 100)] }
                    .into();
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0].summary.contains("OOM"));
        assert_eq!(f[0].culprits.len(), 1);
        assert_eq!(f[0].culprits[0].pid, 9);
    }

    #[test]
    fn swap_growth_is_activity() {
        let w = window(11, |i, s| s.memory = mem(8 * GIB, i as u64 * 4 * (1 << 20)));
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence[0].metric, "swap.used growth");
        assert!((f[0].evidence[0].value - 4.0 * 1048576.0).abs() < 1.0);
    }

    #[test]
    fn plenty_of_memory_and_static_swap_do_not_fire() {
        let w = window(10, |_, s| s.memory = mem(8 * GIB, 2 * GIB));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
        // 10.5% headroom: above the entry line, but an active finding stays (exit line 11%).
        let w = window(10, |_, s| s.memory = mem(16 * GIB * 105 / 1000, 0));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
        assert_eq!(run(&w, &Thresholds::default(), &["memory"]).len(), 1);
    }
}
