//! Vendors' published peak figures for GPUs Steward knows by name: the fallback until a device
//! is characterized, always marked `FigureSource::Published`. Dense throughput (no structured
//! sparsity), SXM boards unless the name says PCIe; sources are the datasheets named per entry.

use std::collections::BTreeMap;

use super::device::{DeviceProfile, FigureSource};
use super::precision::Precision;

const T: f64 = 1e12;
const GB: f64 = 1e9;

/// One datasheet entry: the name fragments that identify it (all must appear), bandwidth, peak
/// per precision (TFLOP/s or TOPS), power limit.
struct Sheet {
    matches: &'static [&'static str],
    bandwidth_gb_s: f64,
    peaks: &'static [(Precision, f64)],
    power_w: f64,
    reference: &'static str,
}

use Precision::{Bf16, F16, F32, Fp8, Int8, Tf32};

/// Most specific first: the first entry whose fragments all appear in the name wins.
const SHEETS: &[Sheet] = &[
    Sheet {
        matches: &["H100", "PCIe"],
        bandwidth_gb_s: 2000.0,
        peaks: &[(F32, 51.2), (Tf32, 378.0), (Bf16, 756.0), (F16, 756.0), (Fp8, 1513.0), (Int8, 1513.0)],
        power_w: 350.0,
        reference: "NVIDIA H100 Tensor Core GPU datasheet, PCIe",
    },
    Sheet {
        matches: &["H100"],
        bandwidth_gb_s: 3350.0,
        peaks: &[(F32, 67.0), (Tf32, 494.7), (Bf16, 989.4), (F16, 989.4), (Fp8, 1978.9), (Int8, 1978.9)],
        power_w: 700.0,
        reference: "NVIDIA H100 Tensor Core GPU datasheet, SXM5",
    },
    Sheet {
        matches: &["A100", "PCIe"],
        bandwidth_gb_s: 1935.0,
        peaks: &[(F32, 19.5), (Tf32, 156.0), (Bf16, 312.0), (F16, 312.0), (Int8, 624.0)],
        power_w: 300.0,
        reference: "NVIDIA A100 Tensor Core GPU datasheet, PCIe 80GB",
    },
    Sheet {
        matches: &["A100", "40GB"],
        bandwidth_gb_s: 1555.0,
        peaks: &[(F32, 19.5), (Tf32, 156.0), (Bf16, 312.0), (F16, 312.0), (Int8, 624.0)],
        power_w: 400.0,
        reference: "NVIDIA A100 Tensor Core GPU datasheet, SXM4 40GB",
    },
    Sheet {
        matches: &["A100"],
        bandwidth_gb_s: 2039.0,
        peaks: &[(F32, 19.5), (Tf32, 156.0), (Bf16, 312.0), (F16, 312.0), (Int8, 624.0)],
        power_w: 400.0,
        reference: "NVIDIA A100 Tensor Core GPU datasheet, SXM4 80GB",
    },
    Sheet {
        matches: &["L40S"],
        bandwidth_gb_s: 864.0,
        peaks: &[(F32, 91.6), (Tf32, 183.0), (Bf16, 362.05), (F16, 362.05), (Fp8, 733.0), (Int8, 733.0)],
        power_w: 350.0,
        reference: "NVIDIA L40S datasheet",
    },
    Sheet {
        matches: &["L4"],
        bandwidth_gb_s: 300.0,
        peaks: &[(F32, 30.3), (Tf32, 60.0), (Bf16, 121.0), (F16, 121.0), (Fp8, 242.5), (Int8, 242.5)],
        power_w: 72.0,
        reference: "NVIDIA L4 Tensor Core GPU datasheet",
    },
    Sheet {
        matches: &["A10"],
        bandwidth_gb_s: 600.0,
        peaks: &[(F32, 31.2), (Tf32, 62.5), (Bf16, 125.0), (F16, 125.0), (Int8, 250.0)],
        power_w: 150.0,
        reference: "NVIDIA A10 Tensor Core GPU datasheet",
    },
    Sheet {
        matches: &["V100"],
        bandwidth_gb_s: 900.0,
        peaks: &[(F32, 15.7), (F16, 125.0)],
        power_w: 300.0,
        reference: "NVIDIA Tesla V100 datasheet, SXM2",
    },
    Sheet {
        matches: &["T4"],
        bandwidth_gb_s: 320.0,
        peaks: &[(F32, 8.1), (F16, 65.0), (Int8, 130.0)],
        power_w: 70.0,
        reference: "NVIDIA T4 Tensor Core GPU datasheet",
    },
    Sheet {
        matches: &["RTX 4090"],
        bandwidth_gb_s: 1008.0,
        peaks: &[(F32, 82.6), (Tf32, 82.6), (Bf16, 165.2), (F16, 165.2), (Fp8, 330.3), (Int8, 660.6)],
        power_w: 450.0,
        reference: "NVIDIA Ada GPU architecture whitepaper, GeForce RTX 4090 (FP32 accumulate)",
    },
    Sheet {
        matches: &["RTX 3090"],
        bandwidth_gb_s: 936.0,
        peaks: &[(F32, 35.6), (Tf32, 35.6), (Bf16, 71.0), (F16, 71.0), (Int8, 284.0)],
        power_w: 350.0,
        reference: "NVIDIA Ampere GA102 GPU architecture whitepaper, GeForce RTX 3090 (FP32 accumulate)",
    },
];

/// The published profile of a device named `name`, or `None` when Steward knows no datasheet
/// for it (the caller says so rather than guessing).
pub fn published_profile(id: &str, node: &str, name: &str, memory_bytes: u64) -> Option<DeviceProfile> {
    let words: Vec<&str> = name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let has = |fragment: &str| {
        let parts: Vec<&str> = fragment.split(' ').collect();
        words.windows(parts.len()).any(|w| w.iter().zip(&parts).all(|(a, b)| a.eq_ignore_ascii_case(b)))
    };
    let sheet = SHEETS.iter().find(|s| s.matches.iter().all(|m| has(m)))?;
    Some(DeviceProfile {
        id: id.into(),
        node: node.into(),
        name: name.into(),
        memory_bytes,
        bandwidth_bytes_per_s: sheet.bandwidth_gb_s * GB,
        peak_flops: sheet.peaks.iter().map(|&(p, tf)| (p, tf * T)).collect::<BTreeMap<_, _>>(),
        power_w: Some(sheet.power_w),
        source: FigureSource::Published { reference: sheet.reference.into() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(name: &str) -> Option<String> {
        match published_profile("n/gpu0", "n", name, 1)?.source {
            FigureSource::Published { reference } => Some(reference),
            _ => None,
        }
    }

    #[test]
    fn names_as_nvml_reports_them_find_their_datasheet() {
        assert!(reference("NVIDIA H100 80GB HBM3").unwrap().ends_with("SXM5"));
        assert!(reference("NVIDIA H100 PCIe").unwrap().ends_with("PCIe"));
        assert!(reference("NVIDIA A100-SXM4-40GB").unwrap().ends_with("40GB"));
        assert!(reference("NVIDIA A100-SXM4-80GB").unwrap().ends_with("SXM4 80GB"));
        assert!(reference("NVIDIA L4").unwrap().contains("L4 Tensor"));
        assert!(reference("NVIDIA L40S").unwrap().contains("L40S"));
        assert!(reference("Tesla T4").unwrap().contains("T4"));
        assert!(reference("NVIDIA GeForce RTX 4090").unwrap().contains("4090"));
    }

    #[test]
    fn an_unknown_device_has_no_figures_rather_than_a_guess() {
        assert_eq!(reference("Fake NVIDIA GPU 0"), None);
        assert_eq!(reference("NVIDIA A1000"), None, "A10 must not match a longer model number");
    }
}
