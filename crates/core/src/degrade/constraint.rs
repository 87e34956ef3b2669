//! A constraint in force: what is short, how badly (its tier), since when, and the numbers that
//! say so — the same `Evidence` profiling findings carry.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::TimestampMs;
use crate::profile::Evidence;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConstraintKind {
    /// Memory use against the configured budget, in tiers (70/80/90/95 % by default).
    Memory,
    /// CPU busy share of the node.
    Cpu,
    /// Power draw against the power budget (fed by the energy work when present).
    Power,
    /// A CPU or GPU being clocked down for heat.
    Thermal,
    /// A node whose agent is gone: its modules are lost.
    NodeLost,
    /// A GPU gone or in error.
    AcceleratorLost,
}

impl ConstraintKind {
    pub const ALL: [ConstraintKind; 6] = [
        ConstraintKind::Memory,
        ConstraintKind::Cpu,
        ConstraintKind::Power,
        ConstraintKind::Thermal,
        ConstraintKind::NodeLost,
        ConstraintKind::AcceleratorLost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConstraintKind::Memory => "memory",
            ConstraintKind::Cpu => "cpu",
            ConstraintKind::Power => "power",
            ConstraintKind::Thermal => "thermal",
            ConstraintKind::NodeLost => "node_lost",
            ConstraintKind::AcceleratorLost => "accelerator_lost",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Constraint {
    /// Stable identity: `memory`, `cpu`, `thermal.gpu.0`, `node_lost.n1`, `accelerator_lost.gpu.1`.
    pub key: String,
    pub kind: ConstraintKind,
    /// 1 (mildest) to 4; kinds without tiers are always 1.
    pub tier: u8,
    /// The claim in plain words.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// When the constraint started (its current tier may be younger).
    pub since_ms: TimestampMs,
}
