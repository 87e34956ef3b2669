//! Optimization suggestions, each derived from a finding or a forecast and carrying its evidence
//! and estimated effect. No evidence, no suggestion.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::consolidation::{ConsolidationConfig, NodeUsage, consolidate};
use super::finding::{Evidence, Finding, Resource};
use super::forecast::{Forecast, SeriesForecast};
use super::report::CurrentUsage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SuggestionKind {
    /// Size a module's allocation to its forecast upper recommendation.
    RightSize,
    /// Move work from a saturated GPU to an idle one.
    MoveToIdleGpu,
    /// Two workloads collide on one resource: run them at different times.
    StaggerJobs,
    /// Memory allocated on a GPU that does no work.
    ReleaseIdleGpu,
    /// One process holds a saturated resource: limit it or give it a lower priority.
    LimitCulprit,
    /// Usage is forecast to exceed what the node has.
    CapacityRisk,
    /// The sampler records more than anyone uses: a window left open, series that never change.
    LowerSampling,
    /// The work of a little-used node fits in the others' headroom: move it and free the node.
    Consolidate,
    /// A process keeps one core busy while the others idle: give it more threads or workers.
    UseMoreCores,
    /// A mapped task keeps most of its accelerator idle: a smaller slice, or feed it better.
    ShrinkOrFeedAccelerator,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Suggestion {
    pub kind: SuggestionKind,
    pub title: String,
    /// The estimated effect, in plain words and numbers.
    pub estimated_effect: String,
    pub evidence: Vec<Evidence>,
    /// The finding key or forecast series it comes from.
    pub source: String,
}

pub struct AdvisorInput<'a> {
    pub findings: &'a [Finding],
    pub forecasts: &'a [SeriesForecast],
    pub usage: &'a CurrentUsage,
    /// Every node's usage history summary, for the consolidation check (empty: not judged).
    pub nodes: &'a [NodeUsage],
    pub now_ms: i64,
}

pub fn advise(input: &AdvisorInput) -> Vec<Suggestion> {
    advise_with_reasons(input).0
}

/// The suggestions, and the checks that could not be made yet with why (consolidation with too
/// little history on some node; a single node is not worth saying).
pub fn advise_with_reasons(input: &AdvisorInput) -> (Vec<Suggestion>, Vec<String>) {
    let mut out = Vec::new();
    for f in input.findings {
        out.extend(from_finding(f, input));
    }
    for fc in input.forecasts {
        out.extend(from_forecast(fc, input));
    }
    let mut not_judged = Vec::new();
    match consolidate(input.nodes, &ConsolidationConfig::new(input.now_ms)) {
        Ok(s) => out.extend(s),
        Err(why) if input.nodes.len() >= 2 => not_judged.push(why),
        Err(_) => {}
    }
    (out, not_judged)
}

fn from_finding(f: &Finding, input: &AdvisorInput) -> Vec<Suggestion> {
    let mut out = Vec::new();
    let share = |c: &super::Culprit| c.usage;
    match f.resource {
        Resource::Cpu if f.key == super::rules::core_bound::KEY => {
            if let Some(top) = f.culprits.first() {
                out.push(Suggestion {
                    kind: SuggestionKind::UseMoreCores,
                    title: format!(
                        "{} (PID {}) is bound to one core: run it with more threads or workers (its -j or \
                         --threads option, a process pool), or split its input across processes",
                        top.name, top.pid
                    ),
                    estimated_effect: "up to the number of idle cores faster, if its work divides".into(),
                    evidence: f.evidence.clone(),
                    source: f.key.clone(),
                });
            }
        }
        Resource::Cpu | Resource::Memory | Resource::Io | Resource::Network => {
            let big: Vec<_> = f.culprits.iter().collect();
            if big.len() >= 2 && distinct_workloads(big[0], big[1]) {
                let (a, b) = (big[0], big[1]);
                out.push(Suggestion {
                    kind: SuggestionKind::StaggerJobs,
                    title: format!(
                        "Stagger {} (PID {}) and {} (PID {}): they compete for {:?}",
                        a.name, a.pid, b.name, b.pid, f.resource
                    )
                    .to_lowercase_resource(),
                    estimated_effect: format!(
                        "running them apart removes about {} from the peak",
                        amount(share(b), &b.unit)
                    ),
                    evidence: f.evidence.clone(),
                    source: f.key.clone(),
                });
            }
            if let Some(top) = big.first() {
                let how = match f.resource {
                    Resource::Cpu => "lower its priority (nice) or cap it with a cgroup cpu.max",
                    Resource::Memory => "cap it with a cgroup memory.max or move it to a node with headroom",
                    Resource::Network => {
                        "cap its bandwidth (tc, or its own limit such as rsync --bwlimit) or move it to a quieter link or hour"
                    }
                    _ => "throttle it with a cgroup io.max or move its data to a faster disk",
                };
                out.push(Suggestion {
                    kind: SuggestionKind::LimitCulprit,
                    title: format!("{} (PID {}) drives the {} finding: {how}", top.name, top.pid, f.key),
                    estimated_effect: format!("frees up to {} for the rest of the node", amount(top.usage, &top.unit)),
                    evidence: f.evidence.clone(),
                    source: f.key.clone(),
                });
            }
        }
        Resource::Gpu if f.key.starts_with("accel.") && f.key.ends_with(".under_used") => {
            out.push(under_used(f));
        }
        Resource::Gpu if f.key.ends_with("idle_allocated") => {
            let holder = f
                .culprits
                .first()
                .map(|c| format!("{} (PID {})", c.name, c.pid))
                .unwrap_or_else(|| "its process".into());
            out.push(Suggestion {
                kind: SuggestionKind::ReleaseIdleGpu,
                title: format!(
                    "{}: {holder} holds memory without using it — release it or schedule work there",
                    f.summary
                ),
                estimated_effect: f.culprits.first().map_or("frees the GPU for other work".into(), |c| {
                    format!("frees {} of GPU memory", amount(c.usage, &c.unit))
                }),
                evidence: f.evidence.clone(),
                source: f.key.clone(),
            });
        }
        Resource::Gpu => {
            // A busy GPU and another that is idle and nearly empty on the same node.
            let idle = input.usage.gpus.value().into_iter().flatten().find(|g| {
                !f.key.starts_with(&format!("gpu.{}.", g.index))
                    && g.utilization_pct.value().is_some_and(|u| *u <= 5.0)
                    && matches!((g.memory_used_bytes.value(), g.memory_total_bytes.value()), (Some(u), Some(t)) if *t > 0 && (*u as f64) < 0.1 * *t as f64)
            });
            if let Some(g) = idle {
                let mut evidence = f.evidence.clone();
                if let Some(u) = g.utilization_pct.value() {
                    evidence.push(Evidence {
                        metric: format!("gpu.{}.util now", g.index),
                        value: *u,
                        threshold: 5.0,
                        unit: "%".into(),
                        from_ms: input.usage.ts_ms,
                        to_ms: input.usage.ts_ms,
                        samples: 1,
                    });
                }
                out.push(Suggestion {
                    kind: SuggestionKind::MoveToIdleGpu,
                    title: format!("{}; GPU {} ({}) is idle: move part of the work there", f.summary, g.index, g.name),
                    estimated_effect: "up to twice the throughput for work that splits across GPUs".into(),
                    evidence,
                    source: f.key.clone(),
                });
            }
        }
        _ => {}
    }
    out
}

/// What a task that under-uses its accelerator should do, with the share it leaves idle.
fn under_used(f: &Finding) -> Suggestion {
    let util = f.evidence.first().map_or(0.0, |e| e.value);
    Suggestion {
        kind: SuggestionKind::ShrinkOrFeedAccelerator,
        title: format!(
            "{}: give it a smaller share (a MIG instance or gpu_memory_bytes) and the rest to other work, or feed it \
             faster (a larger batch, more data-loader workers, data on local disk)",
            f.summary
        ),
        estimated_effect: format!("about {:.0}% of the device left idle today", (100.0 - util).max(0.0)),
        evidence: f.evidence.clone(),
        source: f.key.clone(),
    }
}

fn distinct_workloads(a: &super::Culprit, b: &super::Culprit) -> bool {
    a.pid != b.pid && (a.modules.is_empty() || b.modules.is_empty() || a.modules != b.modules)
}

fn from_forecast(fc: &SeriesForecast, input: &AdvisorInput) -> Vec<Suggestion> {
    let Forecast::Ready { upper_recommendation, baseline_recommendation, backtest, points, .. } = &fc.forecast else {
        return vec![];
    };
    let Some(acc) = backtest.value() else { return vec![] };
    let at = |metric: &str, value: f64, threshold: f64| Evidence {
        metric: metric.into(),
        value,
        threshold,
        unit: fc.unit.clone(),
        from_ms: input.now_ms,
        to_ms: points.last().map_or(input.now_ms, |p| p.ts_ms),
        samples: acc.origins,
    };
    let mut out = Vec::new();
    // Module sizing: the forecast's upper recommendation, with its measured record.
    if let Some(module) = fc.series.strip_prefix("module.").and_then(|s| s.split('.').next())
        && upper_recommendation.is_finite()
        && *upper_recommendation > 0.0
    {
        let saving = baseline_recommendation - upper_recommendation;
        out.push(Suggestion {
            kind: SuggestionKind::RightSize,
            title: format!("Size module {module}'s {} at {}", fc.label, amount(*upper_recommendation, &fc.unit)),
            estimated_effect: format!(
                "in replay it was exceeded {:.1} % of the time with {:.0} % slack; the VPA-style baseline ({}) had {:.1} % / {:.0} %{}",
                acc.upper_exceeded_pct,
                acc.upper_slack_pct,
                amount(*baseline_recommendation, &fc.unit),
                acc.baseline_exceeded_pct,
                acc.baseline_slack_pct,
                if saving > 0.0 { format!(": {} less reserved", amount(saving, &fc.unit)) } else { String::new() }
            ),
            evidence: vec![at(&format!("{} upper recommendation", fc.series), *upper_recommendation, *baseline_recommendation)],
            source: fc.series.clone(),
        });
    }
    // Node capacity: memory forecast to outgrow the machine.
    if fc.series == "mem.used"
        && let (Some(p90), Some(total)) =
            (points.iter().map(|p| p.p90).reduce(f64::max), input.usage.memory_total_bytes.value())
        && p90 > 0.95 * *total as f64
    {
        out.push(Suggestion {
            kind: SuggestionKind::CapacityRisk,
            title: format!(
                "Memory use may reach {} of {} within {}",
                amount(p90, "bytes"),
                amount(*total as f64, "bytes"),
                super::forecast::backtest::duration(fc.horizon_ms)
            ),
            estimated_effect: "act before the OOM killer does: stop or move the largest consumer".into(),
            evidence: vec![at("mem.used p90 forecast", p90, 0.95 * *total as f64)],
            source: fc.series.clone(),
        });
    }
    out
}

/// `1.5 GiB`, `42 %`, `120 % of a core` — numbers as the suggestion text says them.
pub(crate) fn amount(v: f64, unit: &str) -> String {
    if unit == "bytes" {
        let gib = v / (1u64 << 30) as f64;
        if gib.abs() >= 1.0 { format!("{gib:.1} GiB") } else { format!("{:.0} MiB", v / (1u64 << 20) as f64) }
    } else if unit == "B/s" {
        // Links are rated in bits: say both.
        format!("{:.0} MB/s ({:.0} Mb/s)", v / 1e6, v * 8.0 / 1e6)
    } else {
        format!("{v:.0} {unit}")
    }
}

trait LowercaseResource {
    fn to_lowercase_resource(self) -> String;
}

impl LowercaseResource for String {
    /// `Cpu` → `CPU`, `Memory` → `memory`: the Debug name reads oddly in a sentence.
    fn to_lowercase_resource(self) -> String {
        self.replace("Cpu", "CPU")
            .replace("Memory", "memory")
            .replace("Io", "storage")
            .replace("Network", "the network link")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Snapshot;
    use crate::profile::report::current_usage;
    use crate::profile::{Culprit, Severity};

    fn culprit(pid: u32, usage: f64) -> Culprit {
        Culprit { pid, name: format!("p{pid}"), modules: vec![], usage, unit: "% of a core".into() }
    }

    fn finding(culprits: Vec<Culprit>) -> Finding {
        Finding {
            key: "cpu".into(),
            resource: Resource::Cpu,
            severity: Severity::Warning,
            summary: "CPU is saturated".into(),
            culprits,
            evidence: vec![],
            since_ms: 0,
        }
    }

    #[test]
    fn colliding_culprits_get_staggered_and_the_top_one_limited() {
        let usage = current_usage(&Snapshot::empty(0), &[]);
        let f = [finding(vec![culprit(1, 100.0), culprit(2, 80.0)])];
        let s = advise(&AdvisorInput { findings: &f, forecasts: &[], usage: &usage, nodes: &[], now_ms: 0 });
        let kinds: Vec<_> = s.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, vec![SuggestionKind::StaggerJobs, SuggestionKind::LimitCulprit]);
        assert!(s[0].title.contains("compete for CPU"), "{}", s[0].title);
        assert!(s[1].title.contains("p1 (PID 1)"));
    }

    #[test]
    fn a_link_saturated_by_two_senders_gets_them_staggered_and_the_top_one_capped() {
        let usage = current_usage(&Snapshot::empty(0), &[]);
        let sender =
            |pid, bps| Culprit { pid, name: format!("rsync{pid}"), modules: vec![], usage: bps, unit: "B/s".into() };
        let f = [Finding {
            key: "net.eth0".into(),
            resource: Resource::Network,
            severity: Severity::Warning,
            summary: "Network link eth0 is near its 1000 Mb/s capacity".into(),
            culprits: vec![sender(7, 80e6), sender(9, 40e6)],
            evidence: vec![],
            since_ms: 0,
        }];
        let s = advise(&AdvisorInput { findings: &f, forecasts: &[], usage: &usage, nodes: &[], now_ms: 0 });
        assert_eq!(
            s.iter().map(|s| s.kind).collect::<Vec<_>>(),
            vec![SuggestionKind::StaggerJobs, SuggestionKind::LimitCulprit]
        );
        assert!(s[0].title.contains("compete for the network link"), "{}", s[0].title);
        assert!(s[0].estimated_effect.contains("40 MB/s (320 Mb/s)"), "{}", s[0].estimated_effect);
        assert!(s[1].title.contains("rsync7 (PID 7) drives the net.eth0 finding: cap its bandwidth"), "{}", s[1].title);
        // A network finding that names nobody (UDP, say) suggests nothing.
        let nobody = [Finding { culprits: vec![], ..f[0].clone() }];
        assert!(
            advise(&AdvisorInput { findings: &nobody, forecasts: &[], usage: &usage, nodes: &[], now_ms: 0 })
                .is_empty()
        );
    }

    #[test]
    fn consolidation_is_asked_with_the_nodes_history() {
        use crate::Reading;
        use crate::profile::consolidation::NodeUsage;
        let node = |id: &str, cpu: f64| NodeUsage {
            id: id.into(),
            name: id.into(),
            cores: 8,
            memory_total_bytes: 32 << 30,
            can_take_work: true,
            can_be_freed: true,
            cpu_pct: vec![cpu; 1440],
            mem_used_bytes: vec![4e9; 1440],
            cpu_upper_pct: None,
            mem_upper_bytes: None,
            power_w: Reading::unavailable("no power reading"),
        };
        let usage = current_usage(&Snapshot::empty(0), &[]);
        let nodes = [node("a", 30.0), node("b", 5.0)];
        let s = advise(&AdvisorInput { findings: &[], forecasts: &[], usage: &usage, nodes: &nodes, now_ms: 0 });
        assert_eq!(s.iter().map(|s| s.kind).collect::<Vec<_>>(), vec![SuggestionKind::Consolidate]);
        // Not judged (one node): nothing, not an error.
        assert!(
            advise(&AdvisorInput { findings: &[], forecasts: &[], usage: &usage, nodes: &nodes[..1], now_ms: 0 })
                .is_empty()
        );
        // One node: nothing to judge, nothing to say. Two with a short history: why, and how much.
        assert!(
            advise_with_reasons(&AdvisorInput {
                findings: &[],
                forecasts: &[],
                usage: &usage,
                nodes: &nodes[..1],
                now_ms: 0
            })
            .1
            .is_empty()
        );
        let mut short = nodes.clone();
        short[1].cpu_pct.truncate(60);
        short[1].mem_used_bytes.truncate(60);
        let (s, why) = advise_with_reasons(&AdvisorInput {
            findings: &[],
            forecasts: &[],
            usage: &usage,
            nodes: &short,
            now_ms: 0,
        });
        assert!(s.is_empty(), "{s:?}");
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(why[0].contains(&short[1].name) && why[0].contains("1.0 h"), "{why:?}");
    }

    #[test]
    fn nothing_found_nothing_suggested() {
        let usage = current_usage(&Snapshot::empty(0), &[]);
        let fc = SeriesForecast {
            series: "module.m.rss".into(),
            label: "memory".into(),
            unit: "bytes".into(),
            horizon_ms: 1,
            forecast: Forecast::InsufficientHistory { have_ms: 0, need_ms: 1, reason: "x".into() },
        };
        assert!(
            advise(&AdvisorInput { findings: &[], forecasts: &[fc], usage: &usage, nodes: &[], now_ms: 0 }).is_empty()
        );
        let lone = [finding(vec![])];
        assert!(
            advise(&AdvisorInput { findings: &lone, forecasts: &[], usage: &usage, nodes: &[], now_ms: 0 }).is_empty()
        );
    }
}
