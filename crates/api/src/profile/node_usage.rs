//! Each node's usage history summary for the consolidation check: a day of one-minute CPU and
//! memory from the store (the local node's series as they are, a remote node's under
//! `node.<id>.`), the forecasts' upper recommendations, and the measured power where something
//! measures it.

use std::collections::BTreeMap;

use steward_core::cluster::{NodeHealth, NodeView};
use steward_core::profile::consolidation::{ConsolidationConfig, NodeUsage};
use steward_core::profile::forecast::{Forecast, ForecastConfig, SeriesForecast};
use steward_core::series::node_series;
use steward_core::{HistoryQuery, Reading, SeriesHistory};

use super::{Profiling, Target};
use crate::ApiError;
use crate::cluster::LOCAL_NODE;

impl Profiling {
    /// Every node of `nodes` with an inventory, summarised over the consolidation window. Empty
    /// for a single node (nothing to consolidate, nothing to read).
    pub(super) fn node_usages(
        &self,
        nodes: Vec<NodeView>,
        now: i64,
        local_forecasts: &[SeriesForecast],
        cfg: &ForecastConfig,
    ) -> Result<Vec<NodeUsage>, ApiError> {
        let window = ConsolidationConfig::new(now);
        if nodes.len() < 2 {
            return Ok(vec![]);
        }
        // Whole minutes, exactly window/step of them: the store then answers one bucket per step
        // from its one-minute table (a range a millisecond longer would get two-minute buckets).
        let to_ms = now - now.rem_euclid(window.step_ms) - 1;
        let from_ms = to_ms + 1 - window.window_ms;
        let mut out = Vec::with_capacity(nodes.len());
        for n in nodes {
            let Some(inv) = &n.inventory else { continue };
            let local = n.id == LOCAL_NODE;
            let name = |s: &str| if local { s.to_string() } else { node_series(&n.id, s) };
            let (cpu, mem) = (name("cpu.total"), name("mem.used"));
            let power_series = {
                let store = self.store.lock()?;
                let mut v = store.series_names(&name("rapl.package"))?;
                v.extend(store.series_names(&name("gpu."))?.into_iter().filter(|s| s.ends_with(".power_w")));
                v
            };
            let query = HistoryQuery {
                series: [cpu.clone(), mem.clone()].into_iter().chain(power_series.iter().cloned()).collect(),
                from_ms,
                to_ms,
                max_points: (window.window_ms / window.step_ms) as u32,
            };
            let history = self.store.lock()?.query(&query)?;
            let values = |s: &str| -> Vec<f64> {
                history
                    .iter()
                    .find(|h| h.series == s)
                    .map(|h| h.points.iter().map(|p| p.avg).collect())
                    .unwrap_or_default()
            };
            let forecasts = if local {
                local_forecasts.to_vec()
            } else {
                let targets = [
                    Target { series: cpu.clone(), label: "CPU", unit: "%", capacity: Some(100.0) },
                    Target {
                        series: mem.clone(),
                        label: "memory",
                        unit: "bytes",
                        capacity: Some(inv.memory_total_bytes as f64),
                    },
                ];
                self.predict(&targets, cfg)?
            };
            let upper = |s: &str| {
                forecasts.iter().find(|f| f.series == s).and_then(|f| match &f.forecast {
                    Forecast::Ready { upper_recommendation, .. } => Some(*upper_recommendation),
                    Forecast::InsufficientHistory { .. } => None,
                })
            };
            out.push(NodeUsage {
                id: n.id.clone(),
                name: if local {
                    format!("{} (this machine)", inv.hostname)
                } else {
                    format!("{} ({})", inv.hostname, n.id)
                },
                cores: inv.logical_cores,
                memory_total_bytes: inv.memory_total_bytes,
                can_take_work: n.state == NodeHealth::Up,
                // The control center runs here; a draining or unreachable node is not ours to plan.
                can_be_freed: !local && n.state == NodeHealth::Up,
                cpu_pct: values(&cpu),
                mem_used_bytes: values(&mem),
                cpu_upper_pct: upper(&cpu),
                mem_upper_bytes: upper(&mem),
                power_w: median_power(&history, &power_series),
            });
        }
        Ok(out)
    }
}

/// The median of the summed power series (RAPL packages + GPUs) over the buckets where every
/// one of them has a value: a sum with a missing part would understate the draw.
fn median_power(history: &[SeriesHistory], series: &[String]) -> Reading<f64> {
    if series.is_empty() {
        return Reading::unavailable("no RAPL package or GPU power reading in its history");
    }
    let mut sums: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    for h in history.iter().filter(|h| series.contains(&h.series)) {
        for p in &h.points {
            let e = sums.entry(p.ts_ms).or_insert((0.0, 0));
            e.0 += p.avg;
            e.1 += 1;
        }
    }
    let mut full: Vec<f64> = sums.into_values().filter(|(_, k)| *k == series.len()).map(|(w, _)| w).collect();
    if full.is_empty() {
        return Reading::unavailable("its power readings do not cover the window together");
    }
    full.sort_by(f64::total_cmp);
    Reading::from(full[full.len() / 2])
}

#[cfg(test)]
mod tests {
    use steward_core::HistoryPoint;

    use super::*;

    fn series(name: &str, points: &[(i64, f64)]) -> SeriesHistory {
        SeriesHistory {
            series: name.into(),
            source_resolution_ms: 60_000,
            bucket_ms: 60_000,
            points: points.iter().map(|&(ts_ms, v)| HistoryPoint { ts_ms, min: v, max: v, avg: v }).collect(),
        }
    }

    #[test]
    fn power_is_the_median_of_complete_sums_or_says_why_not() {
        let names = vec!["rapl.package-0.power_w".to_string(), "gpu.0.power_w".to_string()];
        let h = [
            series(&names[0], &[(0, 30.0), (1, 40.0), (2, 50.0), (3, 35.0)]),
            series(&names[1], &[(0, 10.0), (1, 10.0), (2, 20.0)]),
        ];
        // Bucket 3 lacks the GPU: left out rather than counted as 35 W.
        assert_eq!(median_power(&h, &names), Reading::from(50.0));
        assert!(median_power(&h, &[]).reason().unwrap().contains("no RAPL"));
        let apart = [series(&names[0], &[(0, 30.0)]), series(&names[1], &[(1, 10.0)])];
        assert!(median_power(&apart, &names).reason().unwrap().contains("cover"));
    }
}
