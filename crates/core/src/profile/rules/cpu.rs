//! CPU saturation: high utilization, a long run queue, or tasks stalled waiting for a core.

use crate::profile::finding::{Finding, Resource};
use crate::profile::window::Context;

pub const KEY: &str = "cpu";

pub fn saturation(ctx: &Context) -> Option<Finding> {
    let t = ctx.thresholds;
    let active = ctx.is_active(KEY);
    let mut evidence = Vec::new();
    let mut firing = 0;

    let util = ctx.mean(|s| s.cpu.value().map(|c| c.total_pct));
    let cores = ctx.latest(|s| s.cpu.value().map(|c| c.per_core_pct.len())).unwrap_or(0).max(1) as f64;
    if let Some((u, n)) = util {
        let line = t.above(t.cpu_util_pct, active);
        if u >= line {
            firing += 1;
            evidence.push(ctx.evidence("cpu.total mean", u, line, "%", n));
        }
    }
    if let Some((q, n)) = ctx.mean(|s| s.cpu.value().map(|c| c.load_avg[0] / cores)) {
        let line = t.above(t.cpu_run_queue_per_core, active);
        if q >= line {
            firing += 1;
            evidence.push(ctx.evidence("load1 per core mean", q, line, "tasks", n));
        }
    }
    if let Some((p, n)) = ctx.mean(|s| s.pressure.value()?.cpu.value().map(|r| r.some.avg10)) {
        let line = t.above(t.cpu_psi_some_pct, active);
        if p >= line {
            firing += 1;
            evidence.push(ctx.evidence("psi.cpu.some avg10 mean", p, line, "%", n));
        }
    }
    if firing == 0 {
        return None;
    }
    // Culprits' share is in percent of one core; the machine has `cores` of them.
    let total_core_pct = util.map_or(100.0 * cores, |(u, _)| u * cores);
    let culprits = ctx.culprits(|p| p.cpu_pct, total_core_pct, "% of a core");
    let who = culprits.first().map(|c| format!(", mostly {} (PID {})", c.name, c.pid)).unwrap_or_default();
    Some(Finding {
        key: KEY.into(),
        resource: Resource::Cpu,
        severity: super::severity(firing, false),
        summary: format!("CPU is saturated{who}"),
        culprits,
        evidence,
        since_ms: ctx.to_ms(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::profile::{Severity, Thresholds};
    use crate::{CpuStats, Pressure, PsiLine, PsiResource, Reading};

    fn cpu(total: f64, load1: f64) -> Reading<CpuStats> {
        CpuStats {
            total_pct: total,
            per_core_pct: vec![total, total],
            load_avg: [load1, 0.0, 0.0],
            frequency_mhz: Reading::unavailable("x"),
        }
        .into()
    }

    fn psi(some: f64) -> Reading<Pressure> {
        let line = PsiLine { avg10: some, avg60: some, avg300: some, total_us: 0 };
        let r = Reading::from(PsiResource { some: line, full: None });
        Pressure { cpu: r.clone(), memory: r.clone(), io: Reading::unavailable("x") }.into()
    }

    #[test]
    fn busy_cpu_names_the_burner() {
        let w = window(10, |_, s| {
            s.cpu = cpu(97.0, 1.0);
            s.processes =
                crate::ProcessTable { count: 3, top: vec![proc(42, "burn", 190.0, 1), proc(7, "idle", 2.0, 1)] }.into();
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].key, "cpu");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].culprits.iter().map(|c| c.pid).collect::<Vec<_>>(), vec![42], "2% is no culprit");
        assert_eq!(f[0].evidence[0].samples, 10);
        assert!(f[0].summary.contains("burn (PID 42)"));
    }

    #[test]
    fn stalls_and_run_queue_make_it_critical() {
        let w = window(5, |_, s| {
            s.cpu = cpu(99.0, 6.0);
            s.pressure = psi(60.0);
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].evidence.len(), 3);
    }

    #[test]
    fn does_not_fire_on_a_moderate_or_short_window() {
        let w = window(10, |_, s| s.cpu = cpu(70.0, 1.0));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
        // One spike inside a calm window does not move the mean over the line.
        let w = window(10, |i, s| s.cpu = cpu(if i == 5 { 100.0 } else { 50.0 }, 0.5));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
        let w = window(2, |_, s| s.cpu = cpu(100.0, 9.0));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty(), "two samples are too few");
    }

    #[test]
    fn active_finding_holds_until_below_the_exit_line() {
        let w = window(10, |_, s| s.cpu = cpu(85.0, 0.5));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty(), "85 < 90: does not start");
        assert_eq!(run(&w, &Thresholds::default(), &["cpu"]).len(), 1, "85 ≥ 81: stays");
    }
}
