//! The task analyzer: from a declared workload (and similar tasks' runs) to its needs and, per
//! device, whether it fits and how long it would take there, with the basis of each figure.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::calibration::{Efficiency, efficiency};
use super::device::DeviceProfile;
use super::needs::{Needs, needs};
use super::roofline::{Estimate, estimate};
use super::workload::Workload;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeviceFit {
    pub device: String,
    pub node: String,
    pub name: String,
    /// Why the task cannot run there; `None` when it fits.
    pub refused: Option<String>,
    pub estimate: Option<Estimate>,
    /// Where the device's figures come from.
    pub figures: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Analysis {
    pub needs: Needs,
    pub efficiency: Efficiency,
    /// Devices that fit first, fastest first; then the others with why not.
    pub devices: Vec<DeviceFit>,
}

pub fn analyze(w: &Workload, devices: &[DeviceProfile], history: &[Workload]) -> Analysis {
    let needs = needs(w);
    let efficiency = efficiency(w, history, devices);
    let mut fits: Vec<DeviceFit> = devices
        .iter()
        .map(|d| {
            let (estimate, refused) = match fit(w, &needs, d, efficiency.value) {
                Ok(e) => (Some(e), None),
                Err(why) => (None, Some(why)),
            };
            DeviceFit {
                device: d.id.clone(),
                node: d.node.clone(),
                name: d.name.clone(),
                refused,
                estimate,
                figures: d.source.describe(),
            }
        })
        .collect();
    fits.sort_by(|a, b| {
        let t = |f: &DeviceFit| f.estimate.as_ref().map_or(f64::INFINITY, |e| e.total_s);
        t(a).total_cmp(&t(b)).then_with(|| a.device.cmp(&b.device))
    });
    Analysis { needs, efficiency, devices: fits }
}

/// The estimate of `w` on `d`, or why it does not run there.
pub fn fit(w: &Workload, n: &Needs, d: &DeviceProfile, efficiency: f64) -> Result<Estimate, String> {
    if let Some(m) = n.memory_bytes
        && m > d.memory_bytes
    {
        return Err(format!("needs {} of memory, {} has {}", gib(m), d.name, gib(d.memory_bytes)));
    }
    let Some(flop) = n.flop_per_step else {
        return Err("the workload's size is unknown: give parameters or flop_per_step".into());
    };
    estimate(flop, n.bytes_per_step, n.steps, w.precision, d, efficiency)
}

pub(crate) fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::precision::Precision;
    use crate::accel::published::published_profile;
    use crate::accel::workload::MeasuredProfile;

    fn fleet() -> Vec<DeviceProfile> {
        vec![
            published_profile("a/gpu0", "a", "NVIDIA A100-SXM4-80GB", 80 << 30).unwrap(),
            published_profile("b/gpu0", "b", "Tesla T4", 16 << 30).unwrap(),
            published_profile("c/gpu0", "c", "NVIDIA H100 80GB HBM3", 80 << 30).unwrap(),
        ]
    }

    fn llm(params: u64) -> Workload {
        Workload {
            parameters: Some(params),
            precision: Precision::F16,
            batch_size: Some(8),
            tokens_per_sample: Some(512),
            ..Workload::default()
        }
    }

    #[test]
    fn a_model_too_big_for_a_device_is_refused_there_with_the_numbers() {
        let a = analyze(&llm(13_000_000_000), &fleet(), &[]);
        let order: Vec<&str> = a.devices.iter().map(|d| d.device.as_str()).collect();
        assert_eq!(order, ["c/gpu0", "a/gpu0", "b/gpu0"]);
        let t4 = &a.devices[2];
        assert!(t4.refused.as_deref().unwrap().contains("needs 24.2 GiB"), "{:?}", t4.refused);
        assert!(t4.figures.contains("published peak"));
        assert_eq!(a.efficiency.value, 1.0);
    }

    #[test]
    fn a_measured_run_scales_every_estimate() {
        let fleet = fleet();
        let base = analyze(&llm(1_000_000_000), &fleet, &[]);
        let a100 = base.devices.iter().find(|d| d.device == "a/gpu0").unwrap().estimate.clone().unwrap();
        let measured = Workload {
            profile: Some(MeasuredProfile {
                device: "NVIDIA A100-SXM4-80GB".into(),
                step_time_ms: a100.step_s * 1000.0 * 2.0,
                peak_memory_bytes: None,
                gpu_utilization_pct: None,
            }),
            ..llm(1_000_000_000)
        };
        let a = analyze(&measured, &fleet, &[]);
        assert!((a.efficiency.value - 0.5).abs() < 1e-9, "{:?}", a.efficiency);
        let h100 = |a: &Analysis| a.devices.iter().find(|d| d.device == "c/gpu0").unwrap().estimate.clone().unwrap();
        assert!((h100(&a).step_s / h100(&base).step_s - 2.0).abs() < 1e-9);
        // A similar task (same mode and framework, size within 2×) borrows the efficiency.
        let similar = analyze(&llm(1_500_000_000), &fleet, std::slice::from_ref(&measured));
        assert!(similar.efficiency.basis.contains("1 similar past runs"));
        let unrelated = analyze(&llm(9_000_000_000), &fleet, &[measured]);
        assert_eq!(unrelated.efficiency.value, 1.0);
    }
}
