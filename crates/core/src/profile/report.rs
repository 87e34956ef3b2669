//! The shapes of a profile request and its answer (`POST /resources/profile`, the Tauri command
//! and `stewardctl profile` all use these).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::advisor::Suggestion;
use super::finding::Finding;
use super::forecast::SeriesForecast;
use super::module::{ModuleSpec, ModuleUsage, usage};
use crate::{Reading, Snapshot, TimestampMs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ProfilingType {
    System,
    Module,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProfileRequest {
    /// Echoed as `request_id`; generated when absent.
    #[serde(default)]
    #[ts(optional)]
    pub id: Option<String>,
    pub profiling_type: ProfilingType,
    /// Required when `profiling_type` is `module`.
    #[serde(default)]
    #[ts(optional)]
    pub module_name: Option<String>,
    /// Forecast horizon; 30 minutes when absent.
    #[serde(default)]
    #[ts(optional)]
    pub horizon_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProfileResponse {
    pub request_id: String,
    pub timestamp: TimestampMs,
    pub profiling_type: ProfilingType,
    pub result: ProfileResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum ProfileResult {
    System(SystemProfile),
    Module(ModuleProfile),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SystemProfile {
    pub current_usage: CurrentUsage,
    pub bottlenecks: Vec<Finding>,
    pub predictions: Vec<SeriesForecast>,
    pub optimization_suggestions: Vec<Suggestion>,
    /// Checks the advisor could not make yet, and why (consolidation while some node has too
    /// little history: how much it has and needs). No suggestion comes without evidence, but its
    /// absence should not look like a verdict.
    #[serde(default)]
    pub not_judged: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ModuleProfile {
    pub module_name: String,
    pub usage: ModuleUsage,
    pub bottlenecks: Vec<Finding>,
    pub predictions: Vec<SeriesForecast>,
    pub optimization_suggestions: Vec<Suggestion>,
}

/// The node right now, in the units a person reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CurrentUsage {
    pub ts_ms: TimestampMs,
    pub cpu_pct: Reading<f64>,
    pub load1_per_core: Reading<f64>,
    pub memory_used_bytes: Reading<u64>,
    pub memory_total_bytes: Reading<u64>,
    pub psi_cpu_some_pct: Reading<f64>,
    pub psi_memory_some_pct: Reading<f64>,
    pub psi_io_some_pct: Reading<f64>,
    pub networks: Vec<NetUsage>,
    pub gpus: Reading<Vec<GpuUsage>>,
    pub modules: Vec<ModuleUsage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NetUsage {
    pub name: String,
    pub rx_bps: Option<f64>,
    pub tx_bps: Option<f64>,
    /// The busier direction against the link speed; unknown link speed is said, not guessed.
    pub utilization_pct: Reading<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GpuUsage {
    pub index: u32,
    pub name: String,
    pub utilization_pct: Reading<f64>,
    pub memory_used_bytes: Reading<u64>,
    pub memory_total_bytes: Reading<u64>,
}

pub fn current_usage(snap: &Snapshot, modules: &[ModuleSpec]) -> CurrentUsage {
    let psi = |f: fn(&crate::Pressure) -> &Reading<crate::PsiResource>| -> Reading<f64> {
        match &snap.pressure {
            Reading::Available { value } => f(value).clone().map(|r| r.some.avg10),
            Reading::Unavailable { reason } => Reading::unavailable(reason.clone()),
        }
    };
    let networks = snap
        .networks
        .value()
        .into_iter()
        .flatten()
        .map(|n| {
            let busiest =
                n.rx_bps.into_iter().chain(n.tx_bps).fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
            let utilization_pct = match (&n.link_speed_mbps, busiest) {
                (Reading::Available { value: 0 }, _) => Reading::unavailable("link speed reported as 0 (no carrier)"),
                (Reading::Available { value }, Some(bps)) => Reading::from(100.0 * bps * 8.0 / (*value as f64 * 1e6)),
                (Reading::Available { .. }, None) => Reading::unavailable("throughput needs two samples"),
                (Reading::Unavailable { reason }, _) if reason.contains("link speed") => {
                    Reading::unavailable(reason.clone())
                }
                (Reading::Unavailable { reason }, _) => Reading::unavailable(format!("link speed unknown: {reason}")),
            };
            NetUsage { name: n.name.clone(), rx_bps: n.rx_bps, tx_bps: n.tx_bps, utilization_pct }
        })
        .collect();
    CurrentUsage {
        ts_ms: snap.ts_ms,
        cpu_pct: snap.cpu.clone().map(|c| c.total_pct),
        load1_per_core: snap.cpu.clone().map(|c| c.load_avg[0] / c.per_core_pct.len().max(1) as f64),
        memory_used_bytes: snap.memory.clone().map(|m| m.total_bytes.saturating_sub(m.available_bytes)),
        memory_total_bytes: snap.memory.clone().map(|m| m.total_bytes),
        psi_cpu_some_pct: psi(|p| &p.cpu),
        psi_memory_some_pct: psi(|p| &p.memory),
        psi_io_some_pct: psi(|p| &p.io),
        networks,
        gpus: snap.gpus.clone().map(|gs| {
            gs.into_iter()
                .map(|g| GpuUsage {
                    index: g.index,
                    name: g.name,
                    utilization_pct: g.utilization_pct,
                    memory_used_bytes: g.memory_used_bytes,
                    memory_total_bytes: g.memory_total_bytes,
                })
                .collect()
        }),
        modules: modules.iter().map(|m| usage(m, snap)).collect(),
    }
}

/// The findings that concern a module: those naming one of its processes as a culprit.
pub fn module_findings(findings: &[Finding], module: &str) -> Vec<Finding> {
    findings.iter().filter(|f| f.culprits.iter().any(|c| c.modules.iter().any(|m| m == module))).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_link_speed_is_said_not_guessed() {
        let mut s = Snapshot::empty(5);
        s.networks = vec![crate::NetStats {
            name: "veth0".into(),
            rx_bytes_total: 0,
            tx_bytes_total: 0,
            rx_bps: Some(1e6),
            tx_bps: Some(2e6),
            link_speed_mbps: Reading::unavailable("virtual link"),
        }]
        .into();
        let u = current_usage(&s, &[]);
        assert!(u.networks[0].utilization_pct.reason().unwrap().contains("link speed unknown"));
        assert!(u.cpu_pct.reason().is_some());
    }

    #[test]
    fn request_parses_and_refuses_unknown_types() {
        let r: ProfileRequest = serde_json::from_str(r#"{"profiling_type":"module","module_name":"m"}"#).unwrap();
        assert_eq!((r.profiling_type, r.id), (ProfilingType::Module, None));
        assert!(serde_json::from_str::<ProfileRequest>(r#"{"profiling_type":"gpu"}"#).is_err());
    }
}
