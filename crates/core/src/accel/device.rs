//! What one accelerator can do, as the analyzer and the mapper use it: memory, bandwidth, a
//! peak per precision, power, and where those figures come from. A figure nobody measured or
//! published is absent, never guessed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::precision::Precision;

/// Where a device's figures come from, shown with every estimate built on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum FigureSource {
    /// Measured on this device by a characterization run.
    Measured { method: String, at: String },
    /// The vendor's published peak (dense, no sparsity): a ceiling, not a measurement.
    Published { reference: String },
    /// Given by the caller with the request.
    Supplied,
}

impl FigureSource {
    pub fn describe(&self) -> String {
        match self {
            FigureSource::Measured { method, at } => format!("measured by {method} at {at}"),
            FigureSource::Published { reference } => format!("published peak ({reference})"),
            FigureSource::Supplied => "figures supplied with the request".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeviceProfile {
    /// `<node>/gpu<index>`, a MIG instance id, or a registered accelerator's id.
    pub id: String,
    pub node: String,
    pub name: String,
    pub memory_bytes: u64,
    /// Device memory bandwidth.
    pub bandwidth_bytes_per_s: f64,
    /// Dense matrix throughput per precision, flop/s (int8: op/s). A precision not listed is
    /// not supported by the device's fast paths.
    pub peak_flops: BTreeMap<Precision, f64>,
    /// Board power at full load (the power limit), watts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub power_w: Option<f64>,
    pub source: FigureSource,
}

impl DeviceProfile {
    /// Flops per byte above which a kernel is compute-bound here (the roofline's ridge point).
    pub fn ridge(&self, p: Precision) -> Option<f64> {
        Some(self.peak_flops.get(&p)? / self.bandwidth_bytes_per_s)
    }

    /// The profile's problems, per field, for profiles supplied with a request.
    pub fn validate(&self, prefix: &str) -> Vec<crate::alloc::FieldError> {
        use crate::alloc::FieldError;
        let mut errors = Vec::new();
        if self.id.trim().is_empty() || self.id.len() > 256 {
            errors.push(FieldError::new(format!("{prefix}.id"), "must be 1–256 bytes"));
        }
        if self.memory_bytes == 0 {
            errors.push(FieldError::new(format!("{prefix}.memory_bytes"), "must be above 0"));
        }
        if !(self.bandwidth_bytes_per_s.is_finite() && self.bandwidth_bytes_per_s > 0.0) {
            errors.push(FieldError::new(format!("{prefix}.bandwidth_bytes_per_s"), "must be a number above 0"));
        }
        if self.peak_flops.is_empty() {
            errors.push(FieldError::new(format!("{prefix}.peak_flops"), "must list at least one precision"));
        }
        for (p, f) in &self.peak_flops {
            if !(f.is_finite() && *f > 0.0) {
                errors.push(FieldError::new(format!("{prefix}.peak_flops.{}", p.name()), "must be a number above 0"));
            }
        }
        if self.power_w.is_some_and(|w| !(w.is_finite() && w > 0.0)) {
            errors.push(FieldError::new(format!("{prefix}.power_w"), "must be a number above 0"));
        }
        errors
    }
}
/// A device's profile from its characterization: the measured bandwidth and f32 matmul rate in
/// place of the datasheet's (`published`, which keeps the other formats: the WGSL f16 kernel
/// runs on shader cores, not the tensor cores a datasheet's f16 is for), marked `Measured`.
/// Without a datasheet, f16 is taken as measured. `None` when it measured too little.
pub fn measured_profile(
    c: &crate::accel::Characterization,
    id: &str,
    name: &str,
    memory_bytes: u64,
    published: Option<DeviceProfile>,
) -> Option<DeviceProfile> {
    use crate::accel::Kernel;
    let rate = |k: Kernel| c.measured(k).map(|m| m.value * 1e9).filter(|v| v.is_finite() && *v > 0.0);
    let (f32_flops, f16_flops, bandwidth) = (rate(Kernel::MatmulF32), rate(Kernel::MatmulF16), rate(Kernel::Bandwidth));
    let from_sheet = published.is_some();
    let mut p = match published {
        Some(p) => p,
        None => DeviceProfile {
            id: id.to_string(),
            node: c.node.clone(),
            name: name.to_string(),
            memory_bytes,
            bandwidth_bytes_per_s: bandwidth?,
            peak_flops: BTreeMap::new(),
            power_w: c.nvml.as_ref().and_then(|g| g.default_power_limit_w.value().copied()),
            source: FigureSource::Supplied,
        },
    };
    if f32_flops.is_none() && bandwidth.is_none() {
        return None;
    }
    if let Some(b) = bandwidth {
        p.bandwidth_bytes_per_s = b;
    }
    if let Some(f) = f32_flops {
        p.peak_flops.insert(Precision::F32, f);
    }
    if let Some(f) = f16_flops.filter(|_| !from_sheet) {
        p.peak_flops.insert(Precision::F16, f);
    }
    if p.peak_flops.is_empty() {
        return None;
    }
    let method = format!("the WGSL benchmark on {} ({})", c.adapter.name, c.adapter.backend);
    p.source = FigureSource::Measured { method, at: crate::alloc::time::format_rfc3339(c.measured_at_ms) };
    Some(p)
}
