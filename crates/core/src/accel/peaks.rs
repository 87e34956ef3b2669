//! Vendors' published peak figures for accelerators we can recognise by name, each with its
//! source, to show beside what was measured (achieved / peak). Only figures a vendor printed:
//! a model not in the table has no peak, never a guessed one.
//!
//! The WGSL matrix multiply runs on shader cores, not tensor cores, so its peaks are the
//! non-tensor FP32/FP16 rates; FP16 is listed only where the vendor states the non-tensor rate.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::accel::Kernel;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PublishedPeak {
    pub model: String,
    pub fp32_gflops: f64,
    pub fp16_gflops: Option<f64>,
    pub memory_gbps: f64,
    /// Where the figures are printed.
    pub source: String,
}

impl PublishedPeak {
    pub fn for_kernel(&self, kernel: Kernel) -> Option<f64> {
        match kernel {
            Kernel::MatmulF32 => Some(self.fp32_gflops),
            Kernel::MatmulF16 => self.fp16_gflops,
            Kernel::Bandwidth => Some(self.memory_gbps),
            Kernel::Latency => None,
        }
    }
}

/// Every word (lower case) must be in the adapter's name; the first row that matches wins,
/// so the more specific rows come first.
struct Row {
    words: &'static [&'static str],
    model: &'static str,
    fp32_tflops: f64,
    fp16_tflops: Option<f64>,
    memory_gbps: f64,
    source: &'static str,
}

const HOPPER: &str = "NVIDIA H100 datasheet and Hopper architecture whitepaper \
    (resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet)";
const AMPERE: &str = "NVIDIA A100 datasheet and Ampere GA100 whitepaper (nvidia.com/en-us/data-center/a100)";

const TABLE: &[Row] = &[
    Row {
        words: &["h200"],
        model: "NVIDIA H200 SXM",
        fp32_tflops: 67.0,
        fp16_tflops: None,
        memory_gbps: 4800.0,
        source: "nvidia.com/en-us/data-center/h200",
    },
    Row {
        words: &["h100", "pcie"],
        model: "NVIDIA H100 PCIe",
        fp32_tflops: 51.0,
        fp16_tflops: None,
        memory_gbps: 2000.0,
        source: HOPPER,
    },
    Row {
        words: &["h100", "nvl"],
        model: "NVIDIA H100 NVL",
        fp32_tflops: 60.0,
        fp16_tflops: None,
        memory_gbps: 3900.0,
        source: HOPPER,
    },
    Row {
        words: &["h100"],
        model: "NVIDIA H100 SXM5",
        fp32_tflops: 67.0,
        fp16_tflops: Some(133.8),
        memory_gbps: 3350.0,
        source: HOPPER,
    },
    Row {
        words: &["a100", "80gb", "pcie"],
        model: "NVIDIA A100 80GB PCIe",
        fp32_tflops: 19.5,
        fp16_tflops: Some(78.0),
        memory_gbps: 1935.0,
        source: AMPERE,
    },
    Row {
        words: &["a100", "80gb"],
        model: "NVIDIA A100 80GB SXM",
        fp32_tflops: 19.5,
        fp16_tflops: Some(78.0),
        memory_gbps: 2039.0,
        source: AMPERE,
    },
    Row {
        words: &["a100"],
        model: "NVIDIA A100 40GB",
        fp32_tflops: 19.5,
        fp16_tflops: Some(78.0),
        memory_gbps: 1555.0,
        source: AMPERE,
    },
    Row {
        words: &["l40s"],
        model: "NVIDIA L40S",
        fp32_tflops: 91.6,
        fp16_tflops: None,
        memory_gbps: 864.0,
        source: "nvidia.com/en-us/data-center/l40s",
    },
    Row {
        words: &["l4"],
        model: "NVIDIA L4",
        fp32_tflops: 30.3,
        fp16_tflops: None,
        memory_gbps: 300.0,
        source: "nvidia.com/en-us/data-center/l4",
    },
    Row {
        words: &["tesla", "t4"],
        model: "NVIDIA T4",
        fp32_tflops: 8.1,
        fp16_tflops: None,
        memory_gbps: 320.0,
        source: "nvidia.com/en-us/data-center/tesla-t4",
    },
    Row {
        words: &["v100"],
        model: "NVIDIA V100",
        fp32_tflops: 15.7,
        fp16_tflops: None,
        memory_gbps: 900.0,
        source: "nvidia.com/en-us/data-center/v100",
    },
    Row {
        words: &["rtx 4090"],
        model: "NVIDIA GeForce RTX 4090",
        fp32_tflops: 82.6,
        fp16_tflops: None,
        memory_gbps: 1008.0,
        source: "nvidia.com/en-us/geforce/graphics-cards/40-series/rtx-4090",
    },
    Row {
        words: &["rtx 3090"],
        model: "NVIDIA GeForce RTX 3090",
        fp32_tflops: 35.6,
        fp16_tflops: None,
        memory_gbps: 936.0,
        source: "nvidia.com/en-us/geforce/graphics-cards/30-series/rtx-3090-3090ti",
    },
];

/// The published peak of the accelerator called `name` (as NVML or the driver names it).
pub fn published_peak(name: &str) -> Option<PublishedPeak> {
    let lower = name.to_ascii_lowercase();
    let row = TABLE.iter().find(|r| r.words.iter().all(|w| contains_word(&lower, w)))?;
    Some(PublishedPeak {
        model: row.model.into(),
        fp32_gflops: row.fp32_tflops * 1000.0,
        fp16_gflops: row.fp16_tflops.map(|t| t * 1000.0),
        memory_gbps: row.memory_gbps,
        source: row.source.into(),
    })
}

/// `word` in `text`, not as part of a longer alphanumeric token (`l4` is not in `l40s`).
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric()) && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_drivers_print_them_find_their_row() {
        let model = |n: &str| published_peak(n).map(|p| p.model);
        assert_eq!(model("NVIDIA H100 80GB HBM3").as_deref(), Some("NVIDIA H100 SXM5"));
        assert_eq!(model("NVIDIA H100 PCIe").as_deref(), Some("NVIDIA H100 PCIe"));
        assert_eq!(model("NVIDIA H200").as_deref(), Some("NVIDIA H200 SXM"));
        assert_eq!(model("NVIDIA A100-SXM4-80GB").as_deref(), Some("NVIDIA A100 80GB SXM"));
        assert_eq!(model("NVIDIA A100-SXM4-40GB").as_deref(), Some("NVIDIA A100 40GB"));
        assert_eq!(model("NVIDIA L40S").as_deref(), Some("NVIDIA L40S"));
        assert_eq!(model("NVIDIA L4").as_deref(), Some("NVIDIA L4"));
        assert_eq!(model("NVIDIA GeForce RTX 4090").as_deref(), Some("NVIDIA GeForce RTX 4090"));
        // Unknown models and software rasterizers have no peak.
        assert_eq!(model("llvmpipe (LLVM 15.0.6, 256 bits)"), None);
        assert_eq!(model("Fake NVIDIA GPU 0"), None);
    }

    #[test]
    fn units_are_giga() {
        let p = published_peak("NVIDIA H100 80GB HBM3").unwrap();
        assert_eq!(p.for_kernel(Kernel::MatmulF32), Some(67_000.0));
        assert_eq!(p.for_kernel(Kernel::Bandwidth), Some(3350.0));
        assert_eq!(p.for_kernel(Kernel::Latency), None);
    }
}
