//! IO pressure: tasks stalled waiting for storage (PSI io). Per-disk utilization and queue depth
//! are not collected yet; the evidence says what is measured.

use crate::profile::finding::{Finding, Resource};
use crate::profile::window::Context;

pub const KEY: &str = "io";

pub fn pressure(ctx: &Context) -> Option<Finding> {
    let t = ctx.thresholds;
    let active = ctx.is_active(KEY);
    let line = t.above(t.io_psi_some_pct, active);
    let (some, n) = ctx.mean(|s| s.pressure.value()?.io.value().map(|r| r.some.avg10))?;
    if some < line {
        return None;
    }
    let mut evidence = vec![ctx.evidence("psi.io.some avg10 mean", some, line, "%", n)];
    let full = ctx.mean(|s| s.pressure.value()?.io.value()?.full.map(|f| f.avg10));
    let critical = full.is_some_and(|(f, _)| f >= line / 2.0);
    if let Some((f, n)) = full {
        evidence.push(ctx.evidence("psi.io.full avg10 mean", f, line / 2.0, "%", n));
    }
    let total = ctx.mean(|s| {
        let d = s.disks.value()?;
        Some(d.iter().map(|d| d.read_bps.unwrap_or(0.0) + d.write_bps.unwrap_or(0.0)).sum())
    });
    let culprits = ctx.culprits(|p| p.read_bps.unwrap_or(0.0) + p.write_bps.unwrap_or(0.0), total.map_or(0.0, |x| x.0), "B/s");
    let who = culprits.first().map(|c| format!(", mostly {} (PID {})", c.name, c.pid)).unwrap_or_default();
    Some(Finding {
        key: KEY.into(),
        resource: Resource::Io,
        severity: super::severity(1, critical),
        summary: format!("Tasks are waiting on storage{who}"),
        culprits,
        evidence,
        since_ms: ctx.to_ms(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::profile::{Severity, Thresholds};
    use crate::{Pressure, ProcessStats, ProcessTable, PsiLine, PsiResource, Reading};

    fn psi_io(some: f64, full: f64) -> Reading<Pressure> {
        let l = |v| PsiLine { avg10: v, avg60: v, avg300: v, total_us: 0 };
        Pressure { cpu: Reading::unavailable("x"), memory: Reading::unavailable("x"), io: PsiResource { some: l(some), full: Some(l(full)) }.into() }.into()
    }

    #[test]
    fn stalled_io_names_the_writer() {
        let w = window(5, |_, s| {
            s.pressure = psi_io(50.0, 30.0);
            let writer = ProcessStats { write_bps: Some(5e8), ..proc(11, "dd", 10.0, 1) };
            s.processes = ProcessTable { count: 1, top: vec![writer] }.into();
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].culprits[0].pid, 11);
    }

    #[test]
    fn light_io_does_not_fire() {
        let w = window(5, |_, s| s.pressure = psi_io(5.0, 1.0));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
    }
}
