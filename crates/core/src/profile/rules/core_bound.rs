//! A process bound to one core: it keeps one core busy while the machine as a whole has room.
//! The most common bottleneck of all — a single-threaded program — never shows in the machine's
//! total (one busy core of 16 is 6 %), so it has a rule of its own.

use crate::profile::finding::{Finding, Resource, Severity};
use crate::profile::window::Context;

pub const KEY: &str = "cpu.core_bound";

/// A process using more than this share of one core is using several threads, not one.
const MAX_ONE_CORE_PCT: f64 = 110.0;

pub fn finding(ctx: &Context) -> Option<Finding> {
    let t = ctx.thresholds;
    let active = ctx.is_active(KEY);
    let cores = ctx.latest(|s| s.cpu.value().map(|c| c.per_core_pct.len())).unwrap_or(0);
    if cores < 2 {
        return None; // one core: the machine-wide CPU rule says it all
    }
    let (total, n_total) = ctx.mean(|s| s.cpu.value().map(|c| c.total_pct))?;
    let total_line = t.above(t.cpu_util_pct, false);
    if total >= total_line {
        return None; // the whole machine is saturated: the CPU rule's finding
    }
    let line = t.above(t.core_bound_pct, active);
    let mut culprits = ctx.culprits(|p| p.cpu_pct, 100.0, "% of a core");
    culprits.retain(|c| c.usage >= line && c.usage <= MAX_ONE_CORE_PCT);
    let top = culprits.first()?;
    let (busiest_core, n_core) = ctx.mean(|s| s.cpu.value()?.per_core_pct.iter().copied().reduce(f64::max))?;
    let evidence = vec![
        ctx.evidence(format!("PID {} cpu mean", top.pid), top.usage, line, "% of a core", n_core),
        ctx.evidence("busiest core mean", busiest_core, line, "%", n_core),
        ctx.evidence(
            format!("cpu.total mean ({cores} cores)"),
            total,
            total_line,
            "% (below: the others have room)",
            n_total,
        ),
    ];
    Some(Finding {
        key: KEY.into(),
        resource: Resource::Cpu,
        severity: Severity::Warning,
        summary: format!(
            "{} (PID {}) is bound to one core ({:.0} % of a core) while the machine is {:.0} % busy: \
             it is likely single-threaded",
            top.name, top.pid, top.usage, total
        ),
        culprits,
        evidence,
        since_ms: ctx.to_ms(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::profile::Thresholds;
    use crate::{CpuStats, ProcessTable, Reading};

    fn cpu(per_core: &[f64]) -> Reading<CpuStats> {
        let total = per_core.iter().sum::<f64>() / per_core.len() as f64;
        CpuStats {
            total_pct: total,
            per_core_pct: per_core.to_vec(),
            load_avg: [1.0, 1.0, 1.0],
            frequency_mhz: Reading::unavailable("x"),
        }
        .into()
    }

    fn one_busy_core(cores: usize, proc_pct: f64) -> Vec<crate::Snapshot> {
        window(10, |i, s| {
            let mut per_core = vec![3.0; cores];
            per_core[i % cores] = 99.0; // the scheduler moves it between cores
            s.cpu = cpu(&per_core);
            s.processes = ProcessTable {
                count: 2,
                top: vec![proc(42, "encode", proc_pct, 1 << 20), proc(7, "sshd", 1.0, 1 << 20)],
            }
            .into();
        })
    }

    #[test]
    fn a_process_pinning_one_core_of_two_is_named() {
        let f = run(&one_busy_core(2, 99.5), &Thresholds::default(), &[]);
        let f = f.iter().find(|f| f.key == super::KEY).expect("a core-bound finding");
        assert_eq!(f.culprits[0].pid, 42);
        assert!(f.summary.contains("encode (PID 42) is bound to one core"), "{}", f.summary);
        assert_eq!(f.evidence.len(), 3);
        assert!(run(&one_busy_core(2, 99.5), &Thresholds::default(), &[]).iter().all(|f| f.key != "cpu"));
    }

    #[test]
    fn many_cores_hide_it_from_the_total_but_not_from_this_rule() {
        assert!(run(&one_busy_core(16, 100.0), &Thresholds::default(), &[]).iter().any(|f| f.key == super::KEY));
    }

    #[test]
    fn multi_threaded_or_modest_processes_and_saturated_machines_are_not_core_bound() {
        let t = Thresholds::default();
        assert!(run(&one_busy_core(4, 180.0), &t, &[]).iter().all(|f| f.key != super::KEY));
        assert!(run(&one_busy_core(4, 60.0), &t, &[]).iter().all(|f| f.key != super::KEY));
        let saturated = window(10, |_, s| {
            s.cpu = cpu(&[99.0, 99.0]);
            s.processes = ProcessTable { count: 1, top: vec![proc(42, "encode", 99.0, 1)] }.into();
        });
        assert!(run(&saturated, &t, &[]).iter().all(|f| f.key != super::KEY));
    }
}
