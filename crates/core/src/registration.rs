//! The contract between Steward and a module that registers itself (a perception, memory,
//! reasoning or learning service): what it declares, what it reports, and the directives it
//! follows. The gRPC `ModuleService` carries these as JSON, like snapshots; the degradation engine
//! (`crate::degrade`) decides directives from them.
//!
//! A registered module is the same concept as the profiler's `profile::module::ModuleSpec` of the
//! same name: its PIDs join that module's matchers, so profiling covers it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How much the system needs the module, from "never touch" to "shed first". The four levels
/// are those of Google SRE's load-shedding criticalities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Criticality {
    /// Never degraded, never suspended (SRE: CRITICAL_PLUS).
    Critical,
    /// Degraded only after every sheddable module is at its minimum (SRE: CRITICAL).
    High,
    /// Degraded before `high` (SRE: SHEDDABLE_PLUS).
    Normal,
    /// Shed first (SRE: SHEDDABLE).
    Sheddable,
}

/// A feature the module can turn off. Lower `rank` = more important; features are disabled
/// from the highest rank down and re-enabled in reverse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Feature {
    pub name: String,
    pub rank: u32,
}

/// One quality level and what it costs. Level 0 is full quality; higher levels are cheaper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct QualityLevel {
    pub level: u32,
    /// What the level means to a person, e.g. "30 fps, 1080p".
    pub label: String,
    /// Expected cost at this level; absent when the module does not know.
    pub cpu_millis: Option<u32>,
    #[ts(type = "number | null")]
    pub memory_bytes: Option<u64>,
    #[ts(type = "number | null")]
    pub gpu_memory_bytes: Option<u64>,
}

/// What a module declares when it registers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Registration {
    /// Same rules as a profiler module's name: letters, digits, `_` and `-`.
    pub name: String,
    /// `perception`, `memory`, `reasoning`, `learning` or any other word.
    pub role: String,
    pub criticality: Criticality,
    pub features: Vec<Feature>,
    /// Ordered by level, starting at 0 (full quality).
    pub quality_levels: Vec<QualityLevel>,
    /// The cheapest level that still delivers the module's minimal viable functionality: the
    /// engine never directs it below this one.
    pub minimal_level: u32,
    /// Processes that make up the module (joined to the profiler's module of the same name).
    pub pids: Vec<u32>,
    /// How often the module promises to report; it is `lost` after three missed intervals.
    pub report_interval_ms: u32,
}

/// What a module says each interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UsageReport {
    pub cpu_millis: Option<u32>,
    #[ts(type = "number | null")]
    pub memory_bytes: Option<u64>,
    #[ts(type = "number | null")]
    pub gpu_memory_bytes: Option<u64>,
    pub healthy: bool,
    /// The level it actually runs at (it may lag a directive).
    pub quality_level: u32,
    /// Features currently on.
    pub features_on: Vec<String>,
    /// Work done so far (frames, queries, steps): a monotonic counter, so goodput is its rate.
    #[ts(type = "number | null")]
    pub goodput_total: Option<u64>,
    /// How long its work took lately (e.g. p95 over the interval), in ms: what a latency
    /// setpoint holds.
    #[serde(default)]
    pub latency_ms: Option<f64>,
}

/// What Steward asks a module to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Directive {
    SetQuality { level: u32 },
    DisableFeature { name: String },
    EnableFeature { name: String },
    Pause,
    Resume,
}

/// A directive with its identity and why it was sent, as the module receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DirectiveOrder {
    /// Unique per module, increasing: the module acknowledges by this id.
    #[ts(type = "number")]
    pub id: u64,
    pub directive: Directive,
    /// The constraint or override behind it, in words.
    pub reason: String,
}

/// The module's answer to a directive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[ts(export)]
pub enum Ack {
    Applied,
    Refused { reason: String },
}
