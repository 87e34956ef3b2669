//! Model-optimization advice for a workload on a device: lower precision, operator fusion,
//! a larger batch, or a device with more bandwidth. Each carries its estimated speedup and
//! memory saved, computed on the roofline of the device's figures, and the basis in words.
//! Where the device or the declared workload does not allow an estimate, there is no advice.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::analyze::{fit, gib};
use super::device::DeviceProfile;
use super::needs::{bytes_per_step, memory, needs};
use super::precision::Precision;
use super::roofline::{Bound, Estimate, estimate};
use super::workload::{Workload, WorkloadMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AdviceKind {
    LowerPrecision,
    Quantize,
    FuseOperators,
    LargerBatch,
    HigherBandwidthDevice,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Advice {
    pub kind: AdviceKind,
    pub title: String,
    /// The device the estimate is for (for a move: the device to move to).
    pub device: String,
    /// Old time over new time (per sample for a larger batch).
    pub estimated_speedup: f64,
    /// Device memory saved; negative when the change needs more.
    pub memory_saved_bytes: i64,
    pub basis: String,
}

/// Below this, a change is not worth saying.
const WORTH: f64 = 1.05;

pub fn advise(w: &Workload, on: &DeviceProfile, fleet: &[DeviceProfile]) -> Vec<Advice> {
    let n = needs(w);
    let Ok(now) = fit(w, &n, on, 1.0) else { return vec![] };
    let mut out = Vec::new();
    out.extend(lower_precision(w, on, &now));
    out.extend(fusion(w, on, &now));
    out.extend(larger_batch(w, on, &now));
    out.extend(more_bandwidth(w, on, &now, fleet));
    out
}

fn figures(d: &DeviceProfile, p: Precision) -> String {
    let peak = d.peak_flops.get(&p).map_or("?".into(), |f| format!("{:.1} TFLOP/s", f / 1e12));
    format!("{} {}: {peak}, {:.0} GB/s ({})", d.name, p.name(), d.bandwidth_bytes_per_s / 1e9, d.source.describe())
}

/// The 16-bit format the device supports (bf16 first: f32's range), and for inference int8/fp8.
fn lower_precision(w: &Workload, d: &DeviceProfile, now: &Estimate) -> Vec<Advice> {
    let mut targets: Vec<Precision> = Vec::new();
    if w.precision.bytes() > 2 {
        targets.extend([Precision::Bf16, Precision::F16].into_iter().find(|p| d.peak_flops.contains_key(p)));
    }
    if w.mode == WorkloadMode::Inference && w.precision.bytes() > 1 {
        targets.extend([Precision::Int8, Precision::Fp8].into_iter().find(|p| d.peak_flops.contains_key(p)));
    }
    targets.into_iter().filter_map(|q| at_precision(w, d, now, q)).collect()
}

fn at_precision(w: &Workload, d: &DeviceProfile, now: &Estimate, q: Precision) -> Option<Advice> {
    let n = needs(w);
    let flop = n.flop_per_step?;
    let bytes = if w.bytes_per_step.is_some() {
        // Declared traffic scales with the value size.
        w.bytes_per_step.map(|b| b * q.bytes() as f64 / w.precision.bytes() as f64)
    } else {
        bytes_per_step(w, q, Some(flop), &mut Vec::new())
    };
    let then = estimate(flop, bytes, n.steps, q, d, 1.0).ok()?;
    let saved = match (n.memory_bytes, w.memory_bytes.is_none().then(|| memory(w, q, &mut Vec::new())).flatten()) {
        (Some(a), Some(b)) => a as i64 - b as i64,
        _ => 0,
    };
    let speedup = now.total_s / then.total_s;
    if speedup < WORTH && saved <= 0 {
        return None;
    }
    let (kind, title) = if q.bytes() == 1 {
        (AdviceKind::Quantize, format!("Quantize to {} for inference (validate accuracy)", q.name()))
    } else {
        (AdviceKind::LowerPrecision, format!("Run in {} (mixed precision)", q.name()))
    };
    let memory_basis = match n.memory_bytes {
        Some(m) if saved > 0 => format!("; memory {} → {}", gib(m), gib(m - saved as u64)),
        _ => "; memory saving not estimated: give parameters".into(),
    };
    Some(Advice {
        kind,
        title,
        device: d.id.clone(),
        estimated_speedup: speedup,
        memory_saved_bytes: saved,
        basis: format!(
            "roofline: {} → {} ({}-bound → {}-bound){memory_basis}",
            figures(d, w.precision),
            figures(d, q),
            now.bound.name(),
            then.bound.name()
        ),
    })
}

/// Eager frameworks run each elementwise op as its own kernel, reading and writing every
/// value; fused, a chain reads its inputs once and keeps intermediates on chip: about a third
/// of the traffic remains.
fn fusion(w: &Workload, d: &DeviceProfile, now: &Estimate) -> Option<Advice> {
    let framework = w.framework?;
    let share = w.streaming_share();
    if w.compiled || !framework.eager_by_default() || share == 0.0 || w.bytes_per_step.is_some() {
        return None;
    }
    let n = needs(w);
    let flop = n.flop_per_step?;
    let all = n.bytes_per_step?;
    let streaming = flop * share * 3.0 * w.precision.bytes() as f64;
    let fused = all - streaming * 2.0 / 3.0;
    let then = estimate(flop, Some(fused), n.steps, w.precision, d, 1.0).ok()?;
    let speedup = now.total_s / then.total_s;
    (speedup >= WORTH).then(|| Advice {
        kind: AdviceKind::FuseOperators,
        title: format!("Compile the model to fuse operators ({framework:?} runs them one by one)"),
        device: d.id.clone(),
        estimated_speedup: speedup,
        memory_saved_bytes: 0,
        basis: format!(
            "operation mix: {:.0}% of flops in elementwise/reduction ops, {:.1} of {:.1} GB per step; fused, about a \
             third of that traffic remains; roofline on {}",
            share * 100.0,
            streaming / 1e9,
            all / 1e9,
            figures(d, w.precision)
        ),
    })
}

/// Memory-bound inference reads the weights once per step whatever the batch: a larger batch
/// spreads that read over more samples, up to the ridge point.
fn larger_batch(w: &Workload, d: &DeviceProfile, now: &Estimate) -> Option<Advice> {
    if w.mode != WorkloadMode::Inference || now.bound != Bound::Memory || w.parameters.is_none() {
        return None;
    }
    let intensity = now.intensity?;
    let factor = (now.ridge / intensity).ceil().clamp(2.0, 64.0) as u64;
    let bigger = w.batch() * factor;
    let b = u32::try_from(bigger).ok().filter(|b| *b <= 1_000_000)?;
    let then_w = Workload { batch_size: Some(b), ..w.clone() };
    let n = needs(&then_w);
    let then = fit(&then_w, &n, d, 1.0).ok()?;
    let speedup = (now.step_s / w.batch() as f64) / (then.step_s / bigger as f64);
    (speedup >= WORTH).then(|| Advice {
        kind: AdviceKind::LargerBatch,
        title: format!("Batch {bigger} samples per step instead of {}", w.batch()),
        device: d.id.clone(),
        estimated_speedup: speedup,
        memory_saved_bytes: 0,
        basis: format!(
            "memory-bound: {intensity:.1} flop/byte against a ridge of {:.1} on {}; per-sample time at batch {bigger}; \
             activation memory grows with the batch and is not counted",
            now.ridge,
            figures(d, w.precision)
        ),
    })
}

/// A memory-bound task on a device with less bandwidth than another that fits it.
fn more_bandwidth(w: &Workload, d: &DeviceProfile, now: &Estimate, fleet: &[DeviceProfile]) -> Option<Advice> {
    if now.bound != Bound::Memory {
        return None;
    }
    let n = needs(w);
    let (other, then) = fleet
        .iter()
        .filter(|o| o.id != d.id && o.bandwidth_bytes_per_s > d.bandwidth_bytes_per_s)
        .filter_map(|o| Some((o, fit(w, &n, o, 1.0).ok()?)))
        .min_by(|a, b| a.1.total_s.total_cmp(&b.1.total_s))?;
    let speedup = now.total_s / then.total_s;
    (speedup >= WORTH).then(|| Advice {
        kind: AdviceKind::HigherBandwidthDevice,
        title: format!("Move to {} ({}): the task is memory-bound", other.id, other.name),
        device: other.id.clone(),
        estimated_speedup: speedup,
        memory_saved_bytes: 0,
        basis: format!(
            "memory-bound on {} ({:.1} flop/byte, ridge {:.1}); roofline: {} against {}",
            d.id,
            now.intensity.unwrap_or(0.0),
            now.ridge,
            figures(other, w.precision),
            figures(d, w.precision)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::published::published_profile;
    use crate::accel::workload::{Framework, OpClass, OpShare};

    fn device(name: &str, gib: u64) -> DeviceProfile {
        published_profile(&format!("n/{name}"), "n", name, gib << 30).unwrap()
    }

    fn kinds(a: &[Advice]) -> Vec<AdviceKind> {
        a.iter().map(|x| x.kind).collect()
    }

    #[test]
    fn f32_inference_on_an_a100_is_told_bf16_int8_a_larger_batch_and_the_h100() {
        let a100 = device("NVIDIA A100-SXM4-80GB", 80);
        let h100 = device("NVIDIA H100 80GB HBM3", 80);
        let w = Workload { parameters: Some(7_000_000_000), batch_size: Some(1), ..Workload::default() };
        let advice = advise(&w, &a100, &[a100.clone(), h100]);
        assert_eq!(
            kinds(&advice),
            [
                AdviceKind::LowerPrecision,
                AdviceKind::Quantize,
                AdviceKind::LargerBatch,
                AdviceKind::HigherBandwidthDevice
            ]
        );
        // Batch-1 decoding is memory-bound: halving the bytes halves the time, and the memory.
        let bf16 = &advice[0];
        assert!((bf16.estimated_speedup - 2.0).abs() < 1e-9, "{bf16:?}");
        assert_eq!(bf16.memory_saved_bytes, 14_000_000_000);
        assert!(bf16.basis.contains("A100") && bf16.basis.contains("published peak"), "{}", bf16.basis);
        assert!((advice[1].estimated_speedup - 4.0).abs() < 1e-9);
        assert!((advice[3].estimated_speedup - 3350.0 / 2039.0).abs() < 1e-9, "bandwidth ratio");
        assert!(advice[2].title.contains("Batch"), "{:?}", advice[2]);
    }

    #[test]
    fn eager_elementwise_work_is_told_to_fuse_and_compiled_work_is_not() {
        let a100 = device("NVIDIA A100-SXM4-80GB", 80);
        let w = Workload {
            mode: WorkloadMode::Training,
            parameters: Some(100_000_000),
            precision: Precision::Bf16,
            batch_size: Some(64),
            tokens_per_sample: Some(2048),
            framework: Some(Framework::Pytorch),
            operations: vec![
                OpShare { class: OpClass::Matmul, share: 0.9 },
                OpShare { class: OpClass::Elementwise, share: 0.1 },
            ],
            ..Workload::default()
        };
        let advice = advise(&w, &a100, std::slice::from_ref(&a100));
        let fuse = advice.iter().find(|a| a.kind == AdviceKind::FuseOperators).expect("fusion");
        assert!(fuse.estimated_speedup > 1.05 && fuse.basis.contains("10% of flops"), "{fuse:?}");
        let compiled = Workload { compiled: true, ..w.clone() };
        assert!(
            advise(&compiled, &a100, std::slice::from_ref(&a100)).iter().all(|a| a.kind != AdviceKind::FuseOperators)
        );
        assert!(
            advise(&w, &a100, std::slice::from_ref(&a100)).iter().all(|a| a.kind != AdviceKind::LargerBatch),
            "training batch size is not the device's call"
        );
    }

    #[test]
    fn no_basis_no_advice() {
        let t4 = device("Tesla T4", 16);
        // Flops only: no traffic, no memory, nothing lower than int8.
        let w = Workload { flop_per_step: Some(1e12), precision: Precision::Int8, ..Workload::default() };
        assert!(advise(&w, &t4, std::slice::from_ref(&t4)).is_empty());
        // A model that does not fit gets no advice on that device.
        let big = Workload { parameters: Some(30_000_000_000), ..Workload::default() };
        assert!(advise(&big, &t4, std::slice::from_ref(&t4)).is_empty());
    }
}
