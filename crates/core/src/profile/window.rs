//! A window of recent snapshots and the few statistics the rules take from it.

use std::collections::{BTreeMap, BTreeSet};

use super::finding::{Culprit, Evidence};
use super::module::{ModuleSpec, modules_of};
use super::thresholds::Thresholds;
use crate::{ProcessStats, Snapshot};

/// Everything a rule sees: the samples (oldest first), the thresholds, which findings are
/// active (for hysteresis) and the modules (to name culprits' modules).
pub struct Context<'a> {
    pub samples: &'a [&'a Snapshot],
    pub thresholds: &'a Thresholds,
    pub active: &'a BTreeSet<String>,
    pub modules: &'a [ModuleSpec],
}

impl Context<'_> {
    pub fn from_ms(&self) -> i64 {
        self.samples.first().map_or(0, |s| s.ts_ms)
    }

    pub fn to_ms(&self) -> i64 {
        self.samples.last().map_or(0, |s| s.ts_ms)
    }

    pub fn is_active(&self, key: &str) -> bool {
        self.active.contains(key)
    }

    /// Mean of `f` over the samples where it is known, with the count; `None` when it is known
    /// in fewer than `min_samples` of them (too little to claim anything).
    pub fn mean(&self, f: impl Fn(&Snapshot) -> Option<f64>) -> Option<(f64, u32)> {
        let vals: Vec<f64> = self.samples.iter().filter_map(|s| f(s)).filter(|v| v.is_finite()).collect();
        let n = vals.len() as u32;
        (n >= self.thresholds.min_samples.max(1)).then(|| (vals.iter().sum::<f64>() / f64::from(n), n))
    }

    /// The latest sample's value of `f`, if known.
    pub fn latest<T>(&self, f: impl Fn(&Snapshot) -> Option<T>) -> Option<T> {
        self.samples.iter().rev().find_map(|s| f(s))
    }

    pub fn evidence(
        &self,
        metric: impl Into<String>,
        value: f64,
        threshold: f64,
        unit: &str,
        samples: u32,
    ) -> Evidence {
        Evidence {
            metric: metric.into(),
            value,
            threshold,
            unit: unit.into(),
            from_ms: self.from_ms(),
            to_ms: self.to_ms(),
            samples,
        }
    }

    /// Processes ranked by the window mean of `f` (absent samples count as 0: the process was
    /// not among the busiest then). Those under `culprit_min_share_pct` of `total` are dropped;
    /// at most five are named.
    pub fn culprits(&self, f: impl Fn(&ProcessStats) -> f64, total: f64, unit: &str) -> Vec<Culprit> {
        let tables: Vec<_> = self.samples.iter().filter_map(|s| s.processes.value()).collect();
        if tables.is_empty() {
            return vec![];
        }
        let mut sums: BTreeMap<u32, (f64, &ProcessStats)> = BTreeMap::new();
        for t in &tables {
            for p in &t.top {
                let e = sums.entry(p.pid).or_insert((0.0, p));
                e.0 += f(p);
                e.1 = p;
            }
        }
        let n = tables.len() as f64;
        let min = total.max(0.0) * self.thresholds.culprit_min_share_pct / 100.0;
        let mut ranked: Vec<(f64, &ProcessStats)> =
            sums.into_values().map(|(sum, p)| (sum / n, p)).filter(|(v, _)| *v > 0.0 && *v >= min).collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.pid.cmp(&b.1.pid)));
        ranked
            .into_iter()
            .take(5)
            .map(|(usage, p)| Culprit {
                pid: p.pid,
                name: p.name.clone(),
                modules: modules_of(self.modules, p),
                usage,
                unit: unit.into(),
            })
            .collect()
    }
}
