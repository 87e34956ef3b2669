//! The performance monitor of mapped tasks: achieved against expected throughput (from the
//! task's `STEWARD_PROGRESS` lines and the mapping's estimate) and the GPU's utilization while
//! it holds it. A task that keeps its GPU mostly idle is under-using it: a finding, which the
//! advisor turns into a suggestion (a smaller slice, or feed the device better).
//!
//! Not part of [`evaluate`](super::evaluate): it needs the mapping's expectations, which the
//! snapshots do not carry.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::profile::finding::{Evidence, Finding, Resource, Severity};
use crate::profile::window::Context;

/// Mean utilization at or below which a held GPU counts as under-used, percent.
pub const UNDERUSED_UTIL_PCT: f64 = 40.0;

/// A task the mapper placed, with what it expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MappedTask {
    pub task: String,
    /// The GPU's index on the node whose snapshots the window holds.
    pub gpu_index: u32,
    /// The mapping's estimate of the whole task, seconds.
    pub expected_s: f64,
}

/// A `STEWARD_PROGRESS <fraction>` line as the agent reported it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProgressPoint {
    pub ts_ms: i64,
    pub fraction: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TaskThroughput {
    pub task: String,
    /// Work per second the estimate expects (fractions of the task).
    pub expected_per_s: f64,
    /// Over the progress points in the window; `None` with fewer than two.
    pub achieved_per_s: Option<f64>,
    /// Achieved over expected.
    pub ratio: Option<f64>,
    /// Mean over the window; `None` when the GPU reported none.
    pub gpu_util_pct: Option<f64>,
    pub finding: Option<Finding>,
}

pub fn assess(ctx: &Context, task: &MappedTask, progress: &[ProgressPoint]) -> TaskThroughput {
    let expected_per_s = 1.0 / task.expected_s.max(f64::MIN_POSITIVE);
    let achieved_per_s = achieved(ctx, progress);
    let ratio = achieved_per_s.map(|a| a / expected_per_s);
    let i = task.gpu_index;
    let util = ctx.mean(|s| s.gpus.value()?.iter().find(|g| g.index == i)?.utilization_pct.value().copied());
    let key = format!("accel.{}.under_used", task.task);
    let line = ctx.thresholds.below(UNDERUSED_UTIL_PCT, ctx.is_active(&key));
    let finding = util.filter(|(u, _)| *u <= line).map(|(u, n)| {
        let mut evidence = vec![ctx.evidence(format!("gpu.{i}.util mean"), u, line, "%", n)];
        let mut summary = format!("Task {} uses {u:.0}% of GPU {i} it holds", task.task);
        if let Some(r) = ratio {
            evidence.push(Evidence {
                metric: format!("{} achieved / expected throughput", task.task),
                value: r,
                threshold: 1.0,
                unit: "ratio".into(),
                from_ms: progress.first().map_or(ctx.from_ms(), |p| p.ts_ms),
                to_ms: progress.last().map_or(ctx.to_ms(), |p| p.ts_ms),
                samples: progress.len() as u32,
            });
            summary.push_str(&format!(" and runs at {:.0}% of the expected throughput", r * 100.0));
        }
        Finding {
            key,
            resource: Resource::Gpu,
            severity: Severity::Warning,
            summary,
            culprits: vec![],
            evidence,
            since_ms: ctx.to_ms(),
        }
    });
    TaskThroughput {
        task: task.task.clone(),
        expected_per_s,
        achieved_per_s,
        ratio,
        gpu_util_pct: util.map(|u| u.0),
        finding,
    }
}

/// Progress per second between the first and last points inside the window.
fn achieved(ctx: &Context, progress: &[ProgressPoint]) -> Option<f64> {
    let inside: Vec<&ProgressPoint> = progress
        .iter()
        .filter(|p| p.ts_ms >= ctx.from_ms() && p.ts_ms <= ctx.to_ms() && p.fraction.is_finite())
        .collect();
    let (first, last) = (inside.first()?, inside.last()?);
    let dt = (last.ts_ms - first.ts_ms) as f64 / 1000.0;
    (dt > 0.0).then(|| (last.fraction - first.fraction).max(0.0) / dt)
}

#[cfg(test)]
mod tests {
    use super::super::gpu::tests::gpu;
    use super::super::test_support::window;
    use super::*;
    use crate::profile::Thresholds;

    fn run(util: f64, progress: &[ProgressPoint]) -> TaskThroughput {
        let samples = window(10, |_, s| s.gpus = vec![gpu(util, 5.0, 10 << 30)].into());
        let refs: Vec<_> = samples.iter().collect();
        let t = Thresholds::default();
        let active = Default::default();
        let ctx = Context { samples: &refs, thresholds: &t, active: &active, modules: &[] };
        assess(&ctx, &MappedTask { task: "train".into(), gpu_index: 0, expected_s: 100.0 }, progress)
    }

    fn line(points: &[(i64, f64)]) -> Vec<ProgressPoint> {
        points.iter().map(|&(ts_ms, fraction)| ProgressPoint { ts_ms, fraction }).collect()
    }

    #[test]
    fn a_task_idling_its_gpu_and_lagging_its_estimate_is_a_finding() {
        // 1% in 9 s where the estimate expects 9%.
        let r = run(12.0, &line(&[(0, 0.10), (9_000, 0.11)]));
        assert!((r.ratio.unwrap() - 0.1111).abs() < 1e-3, "{r:?}");
        let f = r.finding.expect("under-use");
        assert_eq!(f.key, "accel.train.under_used");
        assert!(f.summary.contains("uses 12% of GPU 0") && f.summary.contains("11% of the expected"), "{}", f.summary);
        assert_eq!(f.evidence.len(), 2);
    }

    #[test]
    fn the_advisor_turns_under_use_into_a_suggestion_with_the_idle_share() {
        use crate::profile::advisor::{AdvisorInput, SuggestionKind, advise};
        let f = run(12.0, &line(&[(0, 0.10), (9_000, 0.11)])).finding.unwrap();
        let usage = crate::profile::report::current_usage(&crate::Snapshot::empty(0), &[]);
        let s = advise(&AdvisorInput { findings: &[f], forecasts: &[], usage: &usage, nodes: &[], now_ms: 0 });
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].kind, SuggestionKind::ShrinkOrFeedAccelerator);
        assert!(s[0].title.contains("MIG instance") && s[0].estimated_effect.contains("88%"), "{:?}", s[0]);
        assert_eq!(s[0].source, "accel.train.under_used");
    }

    #[test]
    fn a_busy_gpu_on_pace_is_not() {
        let r = run(95.0, &line(&[(0, 0.0), (9_000, 0.09)]));
        assert!((r.ratio.unwrap() - 1.0).abs() < 1e-9);
        assert!(r.finding.is_none());
        let silent = run(95.0, &[]);
        assert_eq!((silent.achieved_per_s, silent.ratio), (None, None), "no progress lines: unknown, not 0");
    }
}
