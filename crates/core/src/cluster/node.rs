use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::PhiConfig;
use crate::{Inventory, Snapshot, TimestampMs};

/// What the control center may do with a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum NodeHealth {
    /// Heartbeats arrive as expected.
    Up,
    /// Heartbeats are late: no new work, running work is left alone.
    Suspect,
    /// Connection dropped or heartbeats long overdue: its work is rescheduled, its late
    /// results discarded.
    Down,
    /// Alive, but takes no new work (the user asked, e.g. before maintenance).
    Draining,
}

impl NodeHealth {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeHealth::Up => "up",
            NodeHealth::Suspect => "suspect",
            NodeHealth::Down => "down",
            NodeHealth::Draining => "draining",
        }
    }

    /// True when new work may be placed on the node.
    pub fn accepts_work(self) -> bool {
        self == NodeHealth::Up
    }
}

/// A node's state from what is known now: a lost connection is down at once; otherwise phi
/// decides between up, suspect and down; draining shows while the node is alive.
pub fn node_state(connected: bool, phi: Option<f64>, draining: bool, config: &PhiConfig) -> NodeHealth {
    let phi = phi.unwrap_or(f64::INFINITY);
    if !connected || phi >= config.down_phi {
        NodeHealth::Down
    } else if draining {
        NodeHealth::Draining
    } else if phi >= config.suspect_phi {
        NodeHealth::Suspect
    } else {
        NodeHealth::Up
    }
}

/// A node added by the user: what it takes to dial it again after a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// `host:port`; also the node's id.
    pub address: String,
    pub token: String,
    /// The pinned certificate fingerprint; `None` for a plain-text agent on loopback.
    pub fingerprint: Option<String>,
    pub draining: bool,
    pub added_ms: TimestampMs,
    /// The id the agent generated on its first start: one node per agent, whatever the
    /// address it was added under. `None` for nodes added before agents reported one.
    pub node_id: Option<String>,
}

/// One node as the cluster view shows it (this machine included, as id `local`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodeView {
    pub id: String,
    pub address: String,
    /// Host name from the node's inventory; the address until it has been read.
    pub name: String,
    pub state: NodeHealth,
    /// The failure detector's suspicion level now; `null` before the first heartbeat.
    pub phi: Option<f64>,
    pub last_heartbeat_ms: Option<TimestampMs>,
    /// Why the node is down or cannot be reached (e.g. "the agent refused the token").
    pub error: Option<String>,
    pub fingerprint: Option<String>,
    /// How the agent limits task resources: `cgroup_v2`, `cgroup_v1` or `rlimit`.
    pub limits_mechanism: Option<String>,
    pub inventory: Option<Inventory>,
    pub latest: Option<Snapshot>,
    /// What the external engine (Slurm) says of the node; absent on Steward's own nodes.
    #[serde(default)]
    pub engine: Option<EngineFacts>,
}

/// A node as an external engine reports it: its states and allocation, not live telemetry
/// (that comes from `stewardd` where it also runs). Unreported values are absent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EngineFacts {
    /// The engine's own words, base state first (`idle`, `mixed`, `allocated`, `down`, `drain`).
    pub state: Vec<String>,
    pub reason: Option<String>,
    pub partitions: Vec<String>,
    pub cpus: Option<u32>,
    pub alloc_cpus: Option<u32>,
    /// The 1-minute load average.
    pub load_avg: Option<f64>,
    #[ts(type = "number | null")]
    pub memory_bytes: Option<u64>,
    #[ts(type = "number | null")]
    pub alloc_memory_bytes: Option<u64>,
    #[ts(type = "number | null")]
    pub free_memory_bytes: Option<u64>,
    pub gpus: Option<u32>,
    pub gpus_used: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_is_down_whatever_phi_says() {
        let c = PhiConfig::default();
        assert_eq!(node_state(false, Some(0.0), false, &c), NodeHealth::Down);
        assert_eq!(node_state(true, Some(0.0), false, &c), NodeHealth::Up);
        assert_eq!(node_state(true, Some(c.suspect_phi), false, &c), NodeHealth::Suspect);
        assert_eq!(node_state(true, Some(c.down_phi), true, &c), NodeHealth::Down);
        assert_eq!(node_state(true, Some(0.0), true, &c), NodeHealth::Draining);
        assert_eq!(node_state(true, None, false, &c), NodeHealth::Down);
    }
}
