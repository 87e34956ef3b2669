//! What a benchmark measured on one adapter: each kernel's figure with the problem it ran and
//! how far its result strayed from the CPU reference, or why that kernel could not run.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Reading;
use crate::accel::PublishedPeak;
use crate::accel::topology::GpuInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Kernel {
    /// Square matrix multiply in f32; GFLOP/s.
    MatmulF32,
    /// The same in f16 (adapters with SHADER_F16); GFLOP/s.
    MatmulF16,
    /// Read + write of a large buffer (`y = 2x + 1`); GB/s.
    Bandwidth,
    /// Submit-to-completion of an empty-sized dispatch; microseconds.
    Latency,
}

impl Kernel {
    pub const ALL: [Kernel; 4] = [Kernel::MatmulF32, Kernel::MatmulF16, Kernel::Bandwidth, Kernel::Latency];

    pub fn unit(self) -> &'static str {
        match self {
            Kernel::MatmulF32 | Kernel::MatmulF16 => "GFLOP/s",
            Kernel::Bandwidth => "GB/s",
            Kernel::Latency => "µs",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct KernelMeasurement {
    /// In the kernel's unit: the best of `runs` timed runs (the median for latency).
    pub value: f64,
    pub unit: String,
    /// e.g. `512×512×512` or `64 MiB`.
    pub problem: String,
    pub runs: u32,
    /// Largest difference from the CPU reference over the checked elements, relative to the
    /// magnitude of the terms summed (0 = exact).
    pub max_error: f64,
    pub checked_elements: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct KernelResult {
    pub kernel: Kernel,
    pub result: Reading<KernelMeasurement>,
}

/// The adapter as wgpu names it, so a stored result says what it was measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MeasuredAdapter {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub vendor_id: u32,
    pub device_id: u32,
    pub is_software: bool,
}

impl MeasuredAdapter {
    /// Stable key of an adapter on a node: backend and name (two identical cards share it).
    pub fn key(&self) -> String {
        format!("{}:{}", self.backend, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Characterization {
    pub node: String,
    pub adapter: MeasuredAdapter,
    pub measured_at_ms: i64,
    pub kernels: Vec<KernelResult>,
    /// On NVIDIA: the NVML facts (clocks, limits) of the GPU this adapter is.
    pub nvml: Option<GpuInfo>,
    /// The vendor's published figures for this model, when known.
    pub published: Option<PublishedPeak>,
}

impl Characterization {
    pub fn measured(&self, kernel: Kernel) -> Option<&KernelMeasurement> {
        self.kernels.iter().find(|k| k.kernel == kernel).and_then(|k| k.result.value())
    }

    /// Measured over published for each kernel with both, e.g. `(MatmulF32, 0.61)`.
    pub fn achieved_of_peak(&self) -> Vec<(Kernel, f64)> {
        let Some(peak) = &self.published else { return Vec::new() };
        Kernel::ALL
            .into_iter()
            .filter_map(|k| {
                let measured = self.measured(k)?.value;
                let published = peak.for_kernel(k)?;
                Some((k, measured / published))
            })
            .collect()
    }
}
