//! GPU: compute-bound (SMs busy), memory-bound (memory controller busy), or idle while holding
//! memory (allocated but not used: a reservation someone else could have).

use crate::profile::finding::{Culprit, Finding, Resource, Severity};
use crate::profile::module::modules_of;
use crate::profile::window::Context;
use crate::{GpuStats, Snapshot};

pub fn findings(ctx: &Context) -> Vec<Finding> {
    let Some(gpus) = ctx.latest(|s| s.gpus.value().cloned()) else { return vec![] };
    gpus.iter().flat_map(|g| one(ctx, g)).collect()
}

fn one(ctx: &Context, g: &GpuStats) -> Vec<Finding> {
    let t = ctx.thresholds;
    let i = g.index;
    let of =
        |f: fn(&GpuStats) -> Option<f64>| move |s: &Snapshot| s.gpus.value()?.iter().find(|x| x.index == i).and_then(f);
    let util = ctx.mean(of(|g| g.utilization_pct.value().copied()));
    let bw = ctx.mean(of(|g| g.memory_utilization_pct.value().copied()));
    let alloc = ctx.mean(of(|g| {
        let total = *g.memory_total_bytes.value()? as f64;
        let used = *g.memory_used_bytes.value()? as f64;
        (total > 0.0).then(|| 100.0 * used / total)
    }));
    let mut out = Vec::new();
    let finding = |key: String, severity, summary: String, evidence, by_memory: bool| Finding {
        culprits: culprits(ctx, g, by_memory),
        key,
        resource: Resource::Gpu,
        severity,
        summary,
        evidence,
        since_ms: ctx.to_ms(),
    };

    let key = format!("gpu.{i}.memory_bound");
    let line = t.above(t.gpu_mem_bw_pct, ctx.is_active(&key));
    if let Some((b, n)) = bw.filter(|(b, _)| *b >= line) {
        let ev = vec![ctx.evidence(format!("gpu.{i} memory controller busy mean"), b, line, "%", n)];
        out.push(finding(key, Severity::Warning, format!("GPU {i} ({}) is memory-bandwidth-bound", g.name), ev, false));
    } else {
        let key = format!("gpu.{i}.compute_bound");
        let line = t.above(t.gpu_util_pct, ctx.is_active(&key));
        if let Some((u, n)) = util.filter(|(u, _)| *u >= line) {
            let ev = vec![ctx.evidence(format!("gpu.{i}.util mean"), u, line, "%", n)];
            out.push(finding(key, Severity::Warning, format!("GPU {i} ({}) is compute-bound", g.name), ev, false));
        }
    }

    let key = format!("gpu.{i}.idle_allocated");
    let active = ctx.is_active(&key);
    let (alloc_line, idle_line) = (t.below(t.gpu_alloc_pct, !active), t.below(t.gpu_idle_util_pct, active));
    if let (Some((a, na)), Some((u, nu))) = (alloc, util)
        && a >= alloc_line
        && u <= idle_line
    {
        let ev = vec![
            ctx.evidence(format!("gpu.{i}.mem_used share mean"), a, alloc_line, "%", na),
            ctx.evidence(format!("gpu.{i}.util mean"), u, idle_line, "%", nu),
        ];
        out.push(finding(key, Severity::Warning, format!("GPU {i} ({}) holds memory but is idle", g.name), ev, true));
    }
    out
}

/// The GPU's processes by memory or SM share in the latest sample, named from the process table.
fn culprits(ctx: &Context, g: &GpuStats, by_memory: bool) -> Vec<Culprit> {
    let Some(procs) = g.processes.value() else { return vec![] };
    let table = ctx.latest(|s| s.processes.value().cloned());
    let mut out: Vec<Culprit> = procs
        .iter()
        .map(|p| {
            let known = table.as_ref().and_then(|t| t.top.iter().find(|x| x.pid == p.pid));
            let (usage, unit) = if by_memory {
                (p.used_memory_bytes.unwrap_or(0) as f64, "bytes")
            } else {
                (f64::from(p.sm_utilization_pct.unwrap_or(0)), "% SM")
            };
            Culprit {
                pid: p.pid,
                name: known.map_or_else(|| format!("pid {}", p.pid), |k| k.name.clone()),
                modules: known.map(|k| modules_of(ctx.modules, k)).unwrap_or_default(),
                usage,
                unit: unit.into(),
            }
        })
        .filter(|c| c.usage > 0.0)
        .collect();
    out.sort_by(|a, b| b.usage.total_cmp(&a.usage));
    out.truncate(5);
    out
}

/// A moderately used GPU for other rules' tests.
#[cfg(test)]
pub(crate) fn tests_gpu() -> GpuStats {
    tests::gpu(50.0, 30.0, 1 << 30)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::test_support::*;
    use crate::profile::Thresholds;
    use crate::{GpuProcess, GpuStats, Reading};

    const GIB: u64 = 1 << 30;

    pub fn gpu(util: f64, bw: f64, used: u64) -> GpuStats {
        let un = || Reading::unavailable("x");
        GpuStats {
            index: 0,
            uuid: "GPU-0".into(),
            name: "Fake A100".into(),
            utilization_pct: util.into(),
            memory_utilization_pct: bw.into(),
            memory_used_bytes: used.into(),
            memory_total_bytes: (40 * GIB).into(),
            power_w: un(),
            power_limit_w: un(),
            energy_j: un(),
            temperature_c: un(),
            sm_clock_mhz: Reading::unavailable("x"),
            memory_clock_mhz: Reading::unavailable("x"),
            throttle_reasons: Reading::from(vec![]),
            processes: vec![GpuProcess {
                pid: 77,
                used_memory_bytes: Some(used),
                sm_utilization_pct: Some(util as u32),
            }]
            .into(),
            mig: Reading::unavailable("x"),
        }
    }

    fn keys(util: f64, bw: f64, used: u64) -> Vec<String> {
        let w = window(5, |_, s| s.gpus = vec![gpu(util, bw, used)].into());
        run(&w, &Thresholds::default(), &[]).into_iter().map(|f| f.key).collect()
    }

    #[test]
    fn tells_compute_from_memory_bound_from_idle() {
        assert_eq!(keys(98.0, 30.0, 20 * GIB), vec!["gpu.0.compute_bound"]);
        assert_eq!(keys(98.0, 90.0, 20 * GIB), vec!["gpu.0.memory_bound"]);
        assert_eq!(keys(0.0, 0.0, 20 * GIB), vec!["gpu.0.idle_allocated"]);
    }

    #[test]
    fn a_moderately_used_or_empty_gpu_is_fine() {
        assert!(keys(50.0, 30.0, 20 * GIB).is_empty());
        assert!(keys(0.0, 0.0, GIB / 10).is_empty(), "idle and empty is not a finding");
    }

    #[test]
    fn idle_allocated_names_the_holder() {
        let w = window(5, |_, s| {
            s.gpus = vec![gpu(0.0, 0.0, 20 * GIB)].into();
            s.processes = crate::ProcessTable { count: 1, top: vec![proc(77, "python3", 0.0, 1)] }.into();
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!((f[0].culprits[0].pid, f[0].culprits[0].name.as_str()), (77, "python3"));
    }
}
