//! The shapes of energy data that travel in snapshots: raw power sensors (hwmon, batteries) and
//! a node's energy sources with provenance.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Reading;

/// A power or energy sensor outside RAPL and NVML: hwmon `power*_input`/`power*_average`/
/// `energy*_input`, or a battery's discharge (`power_now` under `/sys/class/power_supply/<battery>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PowerSensor {
    /// Stable id, e.g. `hwmon.amdgpu.power1` or `battery.BAT0`.
    pub id: String,
    /// For people: `amdgpu/PPT` or `BAT0 (discharging)`.
    pub label: String,
    pub kind: PowerSensorKind,
    pub power_w: Reading<f64>,
    /// Cumulative energy counter in joules where the sensor has one (`energy*_input`).
    pub energy_j: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PowerSensorKind {
    Hwmon,
    Battery,
}

/// Where a figure comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Provenance {
    /// Read from a meter, named.
    Measured { meter: String },
    /// A share of a measured (or modelled) value: `share` (0–1) of `of`, by `basis`.
    Attributed { of: String, share: f64, basis: String },
    /// An estimate; `assumptions` says from what.
    Modelled { assumptions: String },
}

impl Provenance {
    /// `measured`, `attributed` or `modelled`: the word history series and the UI use.
    pub fn word(&self) -> &'static str {
        match self {
            Provenance::Measured { .. } => "measured",
            Provenance::Attributed { .. } => "attributed",
            Provenance::Modelled { .. } => "modelled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SourceKind {
    /// A CPU package (RAPL `package-N`) or the modelled CPU.
    Cpu,
    /// RAPL `dram`: memory, outside the package.
    Dram,
    Gpu,
    /// A hwmon sensor or RAPL `psys`: may overlap the others, so never added to the total.
    Sensor,
    /// Battery discharge: the whole laptop while on battery.
    Battery,
}

/// One source of a node's power draw, as of one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EnergySource {
    /// Stable id, unique on the node: `cpu.package-0`, `dram.0`, `gpu.0`, `cpu.model`, ...
    pub id: String,
    pub kind: SourceKind,
    pub label: String,
    pub power_w: Reading<f64>,
    /// Joules since `NodeEnergy::since_ms` (from the counter where there is one, else power
    /// integrated over time); `None` until the source has been seen twice.
    pub energy_j: Option<f64>,
    pub provenance: Provenance,
    /// Counted in the node's total (CPU packages, DRAM, GPUs); sensors that may overlap them are
    /// shown beside it.
    pub in_total: bool,
}

/// A node's power and energy at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodeEnergy {
    /// When the cumulative figures started counting (the meter's first sample).
    pub since_ms: i64,
    pub sources: Vec<EnergySource>,
    /// Sum of the sources `in_total`; unavailable (with why) when none of them has a value.
    pub total_w: Reading<f64>,
    /// `measured` when every counted source is; else `modelled`, with the assumptions.
    pub total_provenance: Provenance,
    /// Counted sources without a value, each as `id: reason`: the total is without them.
    pub left_out: Vec<String>,
}

/// Whether the source with this id counts in the node total: CPU packages (or the modelled
/// CPU), DRAM and GPUs do; sensors, `psys` and batteries may overlap them and do not.
pub fn counted_in_total(source_id: &str) -> bool {
    ["cpu.", "dram.", "gpu."].iter().any(|p| source_id.starts_with(p))
}
