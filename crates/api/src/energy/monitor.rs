//! The `monitor` operation's answer, put together from live snapshots and history.

use serde::{Deserialize, Serialize};
use steward_core::energy::attribution::{self, ConsumerPower};
use steward_core::energy::efficiency::{PowerCurve, fit_curve, idle_share};
use steward_core::energy::{NodeEnergy, counted_in_total};
use steward_core::profile::module::usage;
use steward_core::series::node_series;
use steward_core::{Reading, Snapshot};
use steward_store::{HOUR_MS, Store};
use ts_rs::TS;

use super::EnergyMeter;
use super::history::{device_buckets, hourly_joules, interval_series, joules};
use super::settings::EnergySettings;
use crate::ApiError;
use crate::cluster::LOCAL_NODE;

const DAY_MS: i64 = 24 * HOUR_MS;
/// History the efficiency figures look at, in buckets of 5 minutes.
const EFFICIENCY_WINDOW_MS: i64 = DAY_MS;
const EFFICIENCY_POINTS: u32 = 288;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EnergyMonitor {
    /// Every node's power by source, live.
    pub nodes: Vec<NodePower>,
    /// This node's processes by attributed power, busiest first.
    pub processes: Reading<Vec<ConsumerPower>>,
    /// This node's modules (their processes' attributed power).
    pub modules: Vec<ConsumerPower>,
    /// Energy per node and source since midnight UTC and over the last 7 days.
    pub totals: Vec<SourceTotal>,
    pub today: Spend,
    pub week: Spend,
    /// Per device over the last 24 h.
    pub efficiency: Vec<DeviceEfficiency>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodePower {
    pub node: String,
    pub energy: Reading<NodeEnergy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SourceTotal {
    pub node: String,
    pub source: String,
    /// `measured`, `attributed` or `modelled`.
    pub provenance: String,
    pub in_total: bool,
    pub today_j: f64,
    pub week_j: f64,
}

/// Energy counted in node totals over a period, and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Spend {
    pub from_ms: i64,
    pub joules: f64,
    pub kwh: f64,
    /// Share of `joules` that was modelled rather than measured (0–1).
    pub modelled_share: f64,
    /// At `[energy] tariff`, in `currency`.
    pub cost: Reading<f64>,
    pub currency: Option<String>,
    /// Grams CO₂e at `[energy] carbon_intensity`.
    pub carbon_g: Reading<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeviceEfficiency {
    pub node: String,
    /// The energy source, e.g. `gpu.0` or `cpu.package-0`.
    pub device: String,
    pub provenance: String,
    /// Power against utilization, fitted by least squares.
    pub curve: Reading<PowerCurve>,
    /// Share of the energy drawn while utilization was under 5 %.
    pub idle_share: Reading<f64>,
    /// Joules per hour of full utilization: energy per unit of work, comparable across devices.
    pub joules_per_busy_hour: Reading<f64>,
}

impl EnergyMeter {
    pub(super) fn energy_monitor(&self, only: Option<&str>, now: i64) -> Result<EnergyMonitor, ApiError> {
        let local = self.live.latest().map(|s| (*s).clone()).unwrap_or_else(|| Snapshot::empty(now));
        let mut nodes = vec![(LOCAL_NODE.to_string(), String::new(), local.energy.clone())];
        for view in self.cluster.nodes_with_clients(now).into_iter().map(|n| n.0) {
            let energy = match &view.latest {
                Some(s) => s.energy.clone(),
                None => Reading::unavailable(format!("no snapshot from {} yet", view.name)),
            };
            nodes.push((view.id.clone(), node_series(&view.address, ""), energy));
        }
        if let Some(id) = only {
            nodes.retain(|(n, _, _)| n == id);
            if nodes.is_empty() {
                return Err(ApiError::NotFound(format!("no node {id:?}")));
            }
        }
        let processes = match local.energy.value() {
            Some(e) => attribution::processes(&local, e),
            None => Reading::unavailable(local.energy.reason().unwrap_or("no energy yet").to_string()),
        };
        let modules = self.module_power(&local, &processes);
        let settings = self.settings.clone();
        let history: Vec<(String, String)> = nodes.iter().map(|(n, p, _)| (n.clone(), p.clone())).collect();
        let (totals, today, week, efficiency) = from_history(&*self.store.lock()?, &history, &settings, now)?;
        Ok(EnergyMonitor {
            nodes: nodes.into_iter().map(|(node, _, energy)| NodePower { node, energy }).collect(),
            processes,
            modules,
            totals,
            today,
            week,
            efficiency,
        })
    }

    /// Every node's id and the prefix of its history series (`""` for this node).
    pub(super) fn node_prefixes(&self, now: i64) -> Vec<(String, String)> {
        let remote = self.cluster.nodes_with_clients(now).into_iter().map(|n| n.0);
        std::iter::once((LOCAL_NODE.to_string(), String::new()))
            .chain(remote.map(|v| (v.id.clone(), node_series(&v.address, ""))))
            .collect()
    }

    fn module_power(&self, snap: &Snapshot, processes: &Reading<Vec<ConsumerPower>>) -> Vec<ConsumerPower> {
        let Some(procs) = processes.value() else { return Vec::new() };
        let modules: Vec<(String, Vec<u32>)> =
            self.profiling.modules().iter().map(|m| (m.name.clone(), usage(m, snap).pids)).collect();
        attribution::modules(&modules, procs)
    }
}

type FromHistory = (Vec<SourceTotal>, Spend, Spend, Vec<DeviceEfficiency>);

fn from_history(
    store: &Store,
    nodes: &[(String, String)],
    settings: &EnergySettings,
    now: i64,
) -> Result<FromHistory, ApiError> {
    let midnight = now - now.rem_euclid(DAY_MS);
    let week_from = now - 7 * DAY_MS;
    let mut totals = Vec::new();
    let mut efficiency = Vec::new();
    for (node, prefix) in nodes {
        for (series, provenance, source) in interval_series(store, prefix)? {
            totals.push(SourceTotal {
                node: node.clone(),
                in_total: counted_in_total(&source),
                today_j: joules(store, &series, midnight, now)?,
                week_j: joules(store, &series, week_from, now)?,
                source,
                provenance,
            });
        }
        efficiency.extend(device_efficiency(store, node, prefix, now)?);
    }
    let counted: Vec<&SourceTotal> = totals.iter().filter(|t| t.in_total).collect();
    let names: Vec<String> = nodes
        .iter()
        .flat_map(|(_, prefix)| interval_series(store, prefix).unwrap_or_default())
        .filter(|(_, _, source)| counted_in_total(source))
        .map(|(name, _, _)| name)
        .collect();
    let spend = |from: i64, pick: fn(&SourceTotal) -> f64| -> Result<Spend, ApiError> {
        let joules: f64 = counted.iter().map(|t| pick(t)).sum();
        let modelled: f64 = counted.iter().filter(|t| t.provenance == "modelled").map(|t| pick(t)).sum();
        let hourly = hourly_joules(store, &names, from, now)?;
        let priced = |rate: &Option<steward_core::energy::schedule::HourlyRate>, key: &str| match rate {
            Some(r) => Reading::from(r.apply(&hourly)),
            None => Reading::unavailable(format!("no [energy] {key} configured")),
        };
        Ok(Spend {
            from_ms: from,
            joules,
            kwh: joules / 3.6e6,
            modelled_share: if joules > 0.0 { modelled / joules } else { 0.0 },
            cost: priced(&settings.tariff, "tariff"),
            currency: settings.currency.clone(),
            carbon_g: priced(&settings.carbon_intensity, "carbon_intensity"),
        })
    };
    let today = spend(midnight, |t| t.today_j)?;
    let week = spend(week_from, |t| t.week_j)?;
    Ok((totals, today, week, efficiency))
}

/// CPU sources against `cpu.total`, GPUs against their `gpu.<i>.util`.
fn device_efficiency(store: &Store, node: &str, prefix: &str, now: i64) -> Result<Vec<DeviceEfficiency>, ApiError> {
    let mut out = Vec::new();
    for (series, provenance, source) in interval_series(store, prefix)? {
        let util = match source.split_once('.') {
            Some(("cpu", _)) => format!("{prefix}cpu.total"),
            Some(("gpu", i)) => format!("{prefix}gpu.{i}.util"),
            _ => continue,
        };
        let power = format!("{}.w", series.strip_suffix(".j").unwrap_or(&series));
        let buckets =
            device_buckets(store, &util, &power, &series, now - EFFICIENCY_WINDOW_MS, now, EFFICIENCY_POINTS)?;
        let points: Vec<(f64, f64)> = buckets.iter().map(|b| (b.util_pct, b.power_w)).collect();
        let with_joules: Vec<(f64, f64)> = buckets.iter().filter_map(|b| Some((b.util_pct, b.joules?))).collect();
        let busy_hours: f64 = buckets
            .iter()
            .filter(|b| b.joules.is_some())
            .map(|b| b.util_pct / 100.0 * b.bucket_ms as f64 / 3.6e6)
            .sum();
        let total_j: f64 = with_joules.iter().map(|b| b.1).sum();
        out.push(DeviceEfficiency {
            node: node.to_string(),
            device: source,
            provenance,
            curve: fit_curve(&points).map_or_else(Reading::unavailable, Reading::from),
            idle_share: idle_share(&with_joules)
                .map_or_else(|| Reading::unavailable("no energy recorded in the last 24 h"), Reading::from),
            joules_per_busy_hour: if busy_hours > 0.0 {
                Reading::from(total_j / busy_hours)
            } else {
                Reading::unavailable("the device was not busy in the last 24 h")
            },
        });
    }
    Ok(out)
}
