//! Bottleneck rules: pure functions from a window of samples to findings.
//!
//! Each rule compares window statistics with [`Thresholds`](super::Thresholds); while a finding
//! is active its rule uses the exit threshold (hysteresis), and the tracker adds a quiet period
//! before it ends, so a signal hovering at the line starts one event, not a storm.

pub mod accel_underuse;
pub mod core_bound;
mod cpu;
mod gpu;
mod io;
mod memory;
mod network;
mod thermal;

use super::finding::{Finding, Severity};
use super::window::Context;

/// Every rule over the window; findings are unordered until [`sort`].
pub fn evaluate(ctx: &Context) -> Vec<Finding> {
    if (ctx.samples.len() as u32) < ctx.thresholds.min_samples.max(1) {
        return vec![];
    }
    let mut out = Vec::new();
    out.extend(cpu::saturation(ctx));
    out.extend(core_bound::finding(ctx));
    out.extend(memory::pressure(ctx));
    out.extend(io::pressure(ctx));
    out.extend(network::saturation(ctx));
    out.extend(gpu::findings(ctx));
    out.extend(thermal::findings(ctx));
    sort(&mut out);
    out
}

/// Most severe first, then by key, so output is stable.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.key.cmp(&b.key)));
}

fn severity(signals: usize, critical: bool) -> Severity {
    if critical || signals >= 2 { Severity::Critical } else { Severity::Warning }
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::collections::BTreeSet;

    use crate::profile::thresholds::Thresholds;
    use crate::profile::window::Context;
    use crate::{ProcessStats, ProcessTable, Snapshot};

    pub fn proc(pid: u32, name: &str, cpu: f64, rss: u64) -> ProcessStats {
        ProcessStats {
            pid,
            name: name.into(),
            command: name.into(),
            user: Some("alice".into()),
            cpu_pct: cpu,
            rss_bytes: rss,
            read_bps: None,
            write_bps: None,
            exe: None,
            cgroup: None,
            net: vec![],
        }
    }

    /// `n` snapshots one second apart, each shaped by `f(i, &mut snapshot)`.
    pub fn window(n: usize, f: impl Fn(usize, &mut Snapshot)) -> Vec<Snapshot> {
        (0..n)
            .map(|i| {
                let mut s = Snapshot::empty(1_000 * i as i64);
                s.processes = ProcessTable { count: 0, top: vec![] }.into();
                f(i, &mut s);
                s
            })
            .collect()
    }

    pub fn run(samples: &[Snapshot], t: &Thresholds, active: &[&str]) -> Vec<crate::profile::Finding> {
        let refs: Vec<&Snapshot> = samples.iter().collect();
        let active: BTreeSet<String> = active.iter().map(ToString::to_string).collect();
        super::evaluate(&Context { samples: &refs, thresholds: t, active: &active, modules: &[] })
    }
}
