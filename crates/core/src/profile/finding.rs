//! A bottleneck finding: what is limited, how badly, who causes it, and the numbers that say so.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::TimestampMs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Resource {
    Cpu,
    Memory,
    Io,
    Network,
    Gpu,
    Thermal,
    Power,
}

/// A process (or module) that drives a finding, with the usage that makes it one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Culprit {
    pub pid: u32,
    pub name: String,
    /// Modules this process belongs to.
    pub modules: Vec<String>,
    /// Its share of the limited resource over the window, in `unit`.
    pub usage: f64,
    pub unit: String,
}

/// One number behind a claim: the measured value, the threshold it was compared with, the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Evidence {
    /// What was measured, e.g. `cpu.total mean` or `psi.memory.some avg10`.
    pub metric: String,
    pub value: f64,
    /// The threshold in force (the exit threshold while the finding is active).
    pub threshold: f64,
    pub unit: String,
    pub from_ms: TimestampMs,
    pub to_ms: TimestampMs,
    pub samples: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Finding {
    /// Stable identity across evaluations (`cpu`, `gpu.0.idle_allocated`, `net.eth0`), so a
    /// finding can start and end as one event.
    pub key: String,
    pub resource: Resource,
    pub severity: Severity,
    /// The claim in plain words.
    pub summary: String,
    pub culprits: Vec<Culprit>,
    pub evidence: Vec<Evidence>,
    /// When the finding started (set by the hysteresis tracker; the evaluation time before).
    pub since_ms: TimestampMs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EventKind {
    Started,
    Ended,
}

/// A finding starting or ending; flapping signals do not produce these (see `hysteresis`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProfileEvent {
    pub ts_ms: TimestampMs,
    pub kind: EventKind,
    pub key: String,
    pub resource: Resource,
    pub severity: Severity,
    pub summary: String,
}

/// Stable names (as serialized) for storage, and back.
macro_rules! names {
    ($t:ty: $($v:ident = $s:literal),+) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(<$t>::$v),)+ _ => None }
            }
        }
    };
}
names!(Severity: Info = "info", Warning = "warning", Critical = "critical");
names!(Resource: Cpu = "cpu", Memory = "memory", Io = "io", Network = "network", Gpu = "gpu", Thermal = "thermal", Power = "power");
names!(EventKind: Started = "started", Ended = "ended");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_match_the_json_names() {
        for r in [
            Resource::Cpu,
            Resource::Memory,
            Resource::Io,
            Resource::Network,
            Resource::Gpu,
            Resource::Thermal,
            Resource::Power,
        ] {
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
            assert_eq!(Resource::parse(r.as_str()), Some(r));
        }
        assert_eq!(Severity::parse(Severity::Critical.as_str()), Some(Severity::Critical));
        assert_eq!(EventKind::parse("ended"), Some(EventKind::Ended));
    }
}
