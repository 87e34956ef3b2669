//! The roofline estimate of one step on one device: the longer of compute time (flops over the
//! device's peak at the precision) and memory time (bytes over its bandwidth), divided by an
//! efficiency (1 = the roofline itself, a best case; less when a measured run says so).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::device::DeviceProfile;
use super::precision::Precision;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Bound {
    Compute,
    Memory,
}

impl Bound {
    pub fn name(self) -> &'static str {
        match self {
            Bound::Compute => "compute",
            Bound::Memory => "memory",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Estimate {
    pub step_s: f64,
    /// All steps.
    pub total_s: f64,
    pub bound: Bound,
    /// Flops per byte moved; `None` when the traffic is unknown (then compute-bound is assumed).
    pub intensity: Option<f64>,
    /// The device's ridge point at this precision: above it, compute-bound.
    pub ridge: f64,
    /// At the device's power limit for the whole run; `None` without a power figure.
    pub energy_j: Option<f64>,
}

/// The step's roofline on `d` at `p`, or why there is none.
pub fn estimate(
    flop: f64,
    bytes: Option<f64>,
    steps: u64,
    p: Precision,
    d: &DeviceProfile,
    efficiency: f64,
) -> Result<Estimate, String> {
    let Some(&peak) = d.peak_flops.get(&p) else {
        return Err(format!("{} lists no {} throughput", d.name, p.name()));
    };
    let compute_s = flop / peak;
    let memory_s = bytes.map_or(0.0, |b| b / d.bandwidth_bytes_per_s);
    let bound = if memory_s > compute_s { Bound::Memory } else { Bound::Compute };
    let step_s = compute_s.max(memory_s) / efficiency;
    let total_s = step_s * steps as f64;
    Ok(Estimate {
        step_s,
        total_s,
        bound,
        intensity: bytes.filter(|b| *b > 0.0).map(|b| flop / b),
        ridge: peak / d.bandwidth_bytes_per_s,
        energy_j: d.power_w.map(|w| w * total_s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::published::published_profile;

    #[test]
    fn small_batches_are_memory_bound_and_large_ones_compute_bound() {
        let a100 = published_profile("a/gpu0", "a", "NVIDIA A100-SXM4-80GB", 80 << 30).unwrap();
        // Batch 1 decoding of a 7B model in bf16: 14 GFLOP over 14 GB of weights.
        let small = estimate(14e9, Some(14e9), 1, Precision::Bf16, &a100, 1.0).unwrap();
        assert_eq!(small.bound, Bound::Memory);
        assert!((small.step_s - 14e9 / 2039e9).abs() < 1e-12);
        let large = estimate(14e9 * 512.0, Some(14e9), 1, Precision::Bf16, &a100, 1.0).unwrap();
        assert_eq!(large.bound, Bound::Compute);
        assert!((large.step_s - 14e9 * 512.0 / 312e12).abs() < 1e-9);
        assert!(estimate(1.0, None, 1, Precision::Fp8, &a100, 1.0).unwrap_err().contains("no fp8"));
    }
}
