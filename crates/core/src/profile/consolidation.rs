//! "Consolidate to free a node": does the work of the least-used nodes fit in the headroom of
//! the others? Judged on each node's usage history (a high quantile over a day, raised to the
//! forecast's upper recommendation where there is one), never on one sample: a node that looks
//! idle now may carry tonight's batch.
//!
//! The least-used nodes are tried first; their loads are packed first-fit-decreasing into the
//! nodes that can take work, and a node can be freed only if every node stays under
//! `max_util_pct` (80 %) of its CPU and memory.

use super::advisor::{Suggestion, SuggestionKind, amount};
use super::finding::Evidence;
use crate::Reading;

/// One node as the consolidation check sees it. The api fills it from stored history.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeUsage {
    pub id: String,
    /// What the user calls it (host name), for the sentence.
    pub name: String,
    pub cores: u32,
    pub memory_total_bytes: u64,
    /// Work may be moved onto it (it is up and not draining).
    pub can_take_work: bool,
    /// It may be freed. The control center's own machine may not: Steward runs there.
    pub can_be_freed: bool,
    /// Busy share of all cores, percent: one value per step of the window that has one.
    pub cpu_pct: Vec<f64>,
    /// Memory in use, bytes: one value per step of the window that has one.
    pub mem_used_bytes: Vec<f64>,
    /// The forecasts' upper recommendations, where they had enough history.
    pub cpu_upper_pct: Option<f64>,
    pub mem_upper_bytes: Option<f64>,
    /// Measured power draw over the window (median, W); the reason where nothing measures it.
    pub power_w: Reading<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsolidationConfig {
    pub now_ms: i64,
    pub window_ms: i64,
    /// The duration one value of `cpu_pct` / `mem_used_bytes` stands for.
    pub step_ms: i64,
    /// History a node needs inside the window before it is judged: most of a day, so the
    /// daily peak is in it.
    pub min_history_ms: i64,
    /// The quantile of usage a node must absorb (0–1).
    pub quantile: f64,
    /// No node may be planned above this share of its cores or memory: the safety margin.
    pub max_util_pct: f64,
}

impl ConsolidationConfig {
    pub fn new(now_ms: i64) -> Self {
        ConsolidationConfig {
            now_ms,
            window_ms: 24 * 3_600_000,
            step_ms: 60_000,
            min_history_ms: 20 * 3_600_000,
            quantile: 0.95,
            max_util_pct: 80.0,
        }
    }
}

/// A node's demand: what it must keep absorbing wherever its work runs.
#[derive(Debug, Clone)]
struct Load<'a> {
    node: &'a NodeUsage,
    cpu_pct: f64,
    mem_bytes: f64,
    samples: u32,
}

impl Load<'_> {
    fn cores(&self) -> f64 {
        self.cpu_pct / 100.0 * f64::from(self.node.cores)
    }
    /// The larger share of the node it uses: what "least used" orders by.
    fn share(&self) -> f64 {
        (self.cpu_pct / 100.0).max(self.mem_bytes / self.node.memory_total_bytes.max(1) as f64)
    }
}

/// Suggestions to free nodes, or why the cluster cannot be judged (a single node, too little
/// history: the reason says how much is needed). An empty list means judged, nothing fits.
pub fn consolidate(nodes: &[NodeUsage], cfg: &ConsolidationConfig) -> Result<Vec<Suggestion>, String> {
    if nodes.len() < 2 {
        return Err("consolidation needs at least two nodes".into());
    }
    let mut short = Vec::new();
    let loads: Vec<Load> = nodes
        .iter()
        .filter(|n| n.cores > 0 && n.memory_total_bytes > 0)
        .filter_map(|n| {
            let have = n.cpu_pct.len().min(n.mem_used_bytes.len()) as i64 * cfg.step_ms;
            if have < cfg.min_history_ms {
                short.push(format!("{} has {}", n.name, hours(have)));
                return None;
            }
            // The forecast's upper recommendation only ever raises the demand.
            let cpu = quantile(&n.cpu_pct, cfg.quantile).max(n.cpu_upper_pct.unwrap_or(0.0));
            let mem = quantile(&n.mem_used_bytes, cfg.quantile).max(n.mem_upper_bytes.unwrap_or(0.0));
            Some(Load {
                node: n,
                cpu_pct: cpu,
                mem_bytes: mem,
                samples: n.cpu_pct.len().min(n.mem_used_bytes.len()) as u32,
            })
        })
        .collect();
    if loads.len() < 2 {
        return Err(format!(
            "consolidation needs {} of usage history per node within the last {}: {}",
            hours(cfg.min_history_ms),
            hours(cfg.window_ms),
            short.join(", ")
        ));
    }
    // Least used first: the cheapest node to empty. Ties by id, so the answer is stable.
    let mut candidates: Vec<&Load> = loads.iter().filter(|l| l.node.can_be_freed).collect();
    candidates.sort_by(|a, b| a.share().total_cmp(&b.share()).then_with(|| a.node.id.cmp(&b.node.id)));
    let mut freed: Vec<&Load> = Vec::new();
    let mut plan: Vec<usize> = Vec::new();
    for c in candidates {
        let mut trial = freed.clone();
        trial.push(c);
        let targets: Vec<&Load> =
            loads.iter().filter(|l| l.node.can_take_work && !trial.iter().any(|f| f.node.id == l.node.id)).collect();
        if let Some(p) = first_fit_decreasing(&trial, &targets, cfg.max_util_pct) {
            freed = trial;
            plan = p
                .into_iter()
                .map(|t| loads.iter().position(|l| l.node.id == targets[t].node.id).unwrap_or(0))
                .collect();
        }
    }
    Ok(freed.iter().zip(&plan).map(|(f, &t)| suggestion(f, &loads[t], &freed, &plan, &loads, cfg)).collect())
}

/// Places each item (largest first, by cores) on the first target where both its cores and its
/// memory stay under `max_pct` of the target; `None` when one does not fit. Returns the target
/// index of each item, in the items' order.
fn first_fit_decreasing(items: &[&Load], targets: &[&Load], max_pct: f64) -> Option<Vec<usize>> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        items[b].cores().total_cmp(&items[a].cores()).then(items[b].mem_bytes.total_cmp(&items[a].mem_bytes))
    });
    let mut used: Vec<(f64, f64)> = targets.iter().map(|t| (t.cores(), t.mem_bytes)).collect();
    let mut out = vec![0; items.len()];
    for i in order {
        let it = items[i];
        let t = (0..targets.len()).find(|&t| {
            let n = targets[t].node;
            used[t].0 + it.cores() <= max_pct / 100.0 * f64::from(n.cores)
                && used[t].1 + it.mem_bytes <= max_pct / 100.0 * n.memory_total_bytes as f64
        })?;
        used[t].0 += it.cores();
        used[t].1 += it.mem_bytes;
        out[i] = t;
    }
    Some(out)
}

fn suggestion(
    from: &Load,
    onto: &Load,
    freed: &[&Load],
    plan: &[usize],
    loads: &[Load],
    cfg: &ConsolidationConfig,
) -> Suggestion {
    let pct = (cfg.quantile * 100.0).round();
    let window_from = cfg.now_ms - cfg.window_ms;
    let evidence_of = |l: &Load| {
        let ev = |metric: String, value: f64, threshold: f64, unit: &str| Evidence {
            metric,
            value,
            threshold,
            unit: unit.into(),
            from_ms: window_from,
            to_ms: cfg.now_ms,
            samples: l.samples,
        };
        let mem_line = cfg.max_util_pct / 100.0 * l.node.memory_total_bytes as f64;
        [
            ev(format!("{} cpu.total p{pct}", l.node.name), l.cpu_pct, cfg.max_util_pct, "%"),
            ev(format!("{} mem.used p{pct}", l.node.name), l.mem_bytes, mem_line, "bytes"),
        ]
    };
    // The target's projected load counts every freed node planned onto it.
    let (mut cores, mut mem) = (onto.cores(), onto.mem_bytes);
    for (f, &t) in freed.iter().zip(plan) {
        if loads[t].node.id == onto.node.id {
            cores += f.cores();
            mem += f.mem_bytes;
        }
    }
    let cpu_after = cores / f64::from(onto.node.cores) * 100.0;
    let mem_after = mem / onto.node.memory_total_bytes as f64 * 100.0;
    let power = match &from.node.power_w {
        Reading::Available { value } => format!(
            "{} drew {value:.0} W measured (median over the window): about what powering it off saves",
            from.node.name
        ),
        Reading::Unavailable { reason } => format!("power unknown ({}: {reason})", from.node.name),
    };
    let others = if freed.len() > 1 {
        format!(", together with the other {} nodes this plan frees", freed.len() - 1)
    } else {
        String::new()
    };
    Suggestion {
        kind: SuggestionKind::Consolidate,
        title: format!(
            "Consolidate: move the work of {} onto {} to free {}",
            from.node.name, onto.node.name, from.node.name
        ),
        estimated_effect: format!(
            "frees {} ({} cores, {}){others}; {} would run at {cpu_after:.0} % CPU and {mem_after:.0} % memory at p{pct} (limit {:.0} %); {power}",
            from.node.name,
            from.node.cores,
            amount(from.node.memory_total_bytes as f64, "bytes"),
            onto.node.name,
            cfg.max_util_pct,
        ),
        evidence: evidence_of(from).into_iter().chain(evidence_of(onto)).collect(),
        source: format!("node.{}", from.node.id),
    }
}

/// The `q` quantile (0–1) by the nearest-rank method: a value that was really observed.
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn hours(ms: i64) -> String {
    format!("{:.1} h", ms as f64 / 3_600_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: f64 = (1u64 << 30) as f64;
    const DAY: usize = 1440;

    /// A node with a day of one-minute history: CPU and memory flat, with a short daily peak.
    fn node(id: &str, cpu: f64, mem_gib: f64, peak_cpu: f64) -> NodeUsage {
        NodeUsage {
            id: id.into(),
            name: id.into(),
            cores: 16,
            memory_total_bytes: 64 * (1 << 30),
            can_take_work: true,
            can_be_freed: true,
            cpu_pct: (0..DAY).map(|i| if i % 100 < 10 { peak_cpu } else { cpu }).collect(),
            mem_used_bytes: vec![mem_gib * GIB; DAY],
            cpu_upper_pct: None,
            mem_upper_bytes: None,
            power_w: Reading::unavailable("no RAPL or GPU power reading"),
        }
    }

    fn run(nodes: &[NodeUsage]) -> Result<Vec<Suggestion>, String> {
        consolidate(nodes, &ConsolidationConfig::new(100 * 86_400_000))
    }

    #[test]
    fn the_least_used_node_moves_onto_the_one_with_headroom() {
        let nodes = [node("a", 30.0, 20.0, 40.0), node("b", 5.0, 8.0, 10.0), node("c", 60.0, 40.0, 70.0)];
        let s = run(&nodes).unwrap();
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].kind, SuggestionKind::Consolidate);
        assert_eq!(s[0].title, "Consolidate: move the work of b onto a to free b");
        // a: 40 % of 16 cores at p95 (the peak is 10 % of the day) + b's 10 % = 50 %.
        assert!(
            s[0].estimated_effect.contains("a would run at 50 % CPU and 44 % memory at p95"),
            "{}",
            s[0].estimated_effect
        );
        assert!(s[0].estimated_effect.contains("power unknown"), "never invented watts");
        let ev: Vec<_> = s[0].evidence.iter().map(|e| (e.metric.as_str(), e.value)).collect();
        assert_eq!(ev[0], ("b cpu.total p95", 10.0));
        assert_eq!(ev[2], ("a cpu.total p95", 40.0));
        assert_eq!(s[0].evidence[1].value, 8.0 * GIB);
    }

    #[test]
    fn several_small_nodes_are_freed_when_they_all_fit() {
        let nodes = [node("a", 10.0, 8.0, 10.0), node("b", 5.0, 4.0, 5.0), node("c", 5.0, 4.0, 5.0)];
        let s = run(&nodes).unwrap();
        // b and c onto a: 20 % CPU, 16 GiB; freeing a too would leave nowhere to go.
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s.iter().all(|s| s.title.contains("onto a")));
        assert!(s[0].estimated_effect.contains("a would run at 20 % CPU"), "{}", s[0].estimated_effect);
    }

    #[test]
    fn the_peak_not_the_mean_decides() {
        // Mean CPU 32 % each would fit under 80 % together, but the daily peak at 50 % does not.
        let nodes = [node("a", 30.0, 8.0, 50.0), node("b", 30.0, 8.0, 50.0)];
        assert_eq!(run(&nodes).unwrap(), vec![]);
    }

    #[test]
    fn memory_alone_can_forbid_it() {
        let nodes = [node("a", 5.0, 30.0, 5.0), node("b", 5.0, 30.0, 5.0)];
        assert_eq!(run(&nodes).unwrap(), vec![], "60 GiB of 64 is over the 80 % line");
    }

    #[test]
    fn the_forecast_upper_recommendation_raises_the_demand() {
        let mut b = node("b", 5.0, 4.0, 5.0);
        b.cpu_upper_pct = Some(70.0);
        assert_eq!(run(&[node("a", 20.0, 8.0, 20.0), b]).unwrap(), vec![]);
    }

    #[test]
    fn measured_power_is_the_effect_when_there_is_one() {
        let mut b = node("b", 5.0, 4.0, 5.0);
        b.power_w = 87.4.into();
        let s = run(&[node("a", 20.0, 8.0, 20.0), b]).unwrap();
        assert!(s[0].estimated_effect.contains("b drew 87 W measured"), "{}", s[0].estimated_effect);
    }

    #[test]
    fn the_control_center_is_never_freed_and_a_node_that_takes_no_work_is_no_target() {
        let mut local = node("local", 5.0, 4.0, 5.0);
        local.can_be_freed = false;
        let mut down = node("d", 0.0, 1.0, 0.0);
        down.can_take_work = false;
        let s = run(&[local, node("b", 10.0, 8.0, 10.0), down]).unwrap();
        let titles: Vec<_> = s.iter().map(|s| s.title.as_str()).collect();
        // d is the least used: it moves out; b moves onto local; local is never freed.
        assert_eq!(
            titles,
            [
                "Consolidate: move the work of d onto local to free d",
                "Consolidate: move the work of b onto local to free b"
            ]
        );
    }

    #[test]
    fn one_node_or_too_little_history_is_not_judged() {
        assert!(run(&[node("a", 5.0, 4.0, 5.0)]).unwrap_err().contains("two nodes"));
        let mut b = node("b", 5.0, 4.0, 5.0);
        b.cpu_pct.truncate(180);
        let e = run(&[node("a", 5.0, 4.0, 5.0), b]).unwrap_err();
        assert!(e.contains("20.0 h of usage history") && e.contains("b has 3.0 h"), "{e}");
    }

    #[test]
    fn quantile_is_an_observed_value() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.95), 95.0);
        assert_eq!(quantile(&[3.0], 0.95), 3.0);
        assert_eq!(quantile(&[], 0.95), 0.0);
    }
}
