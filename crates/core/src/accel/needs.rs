//! What a declared workload needs: flops and memory traffic per step, steps, device memory.
//! Each figure carries the rule it came from, so an estimate can show its basis.
//!
//! The rules are the field's standard accounting: 2·N flops per token for a forward pass and
//! 6·N for training (Kaplan et al., "Scaling Laws for Neural Language Models", 2020); weights,
//! gradients and Adam states for training memory (Rajbhandari et al., "ZeRO", 2020;
//! activations not counted); elementwise and reduction ops move about three values per flop.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::precision::Precision;
use super::workload::{Workload, WorkloadMode};

/// Values an elementwise flop reads and writes (two operands, one result).
const STREAM_VALUES_PER_FLOP: f64 = 3.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Needs {
    /// `None` when neither `parameters` nor `flop_per_step` is declared.
    pub flop_per_step: Option<f64>,
    pub bytes_per_step: Option<f64>,
    pub steps: u64,
    /// `None` when nothing says how much memory the task takes.
    pub memory_bytes: Option<u64>,
    /// How each figure was obtained.
    pub basis: Vec<String>,
}

pub fn needs(w: &Workload) -> Needs {
    let mut basis = Vec::new();
    let flop = flop_per_step(w, &mut basis);
    let bytes = bytes_per_step(w, w.precision, flop, &mut basis);
    let memory_bytes = memory(w, w.precision, &mut basis);
    Needs { flop_per_step: flop, bytes_per_step: bytes, steps: w.step_count(), memory_bytes, basis }
}

fn flop_per_step(w: &Workload, basis: &mut Vec<String>) -> Option<f64> {
    if let Some(f) = w.flop_per_step {
        basis.push("flops per step: declared".into());
        return Some(f);
    }
    let n = w.parameters? as f64;
    let (k, why) = match w.mode {
        WorkloadMode::Inference => (2.0, "2·N per token (forward pass, Kaplan et al. 2020)"),
        WorkloadMode::Training => (6.0, "6·N per token (forward and backward, Kaplan et al. 2020)"),
    };
    basis.push(format!("flops per step: {why} × batch {} × {} tokens", w.batch(), w.tokens()));
    Some(k * n * (w.batch() * w.tokens()) as f64)
}

/// Bytes moved per step at precision `p`: weights (and for training, gradients and optimizer
/// states) once per step, plus the traffic of memory-streaming ops.
pub(crate) fn bytes_per_step(w: &Workload, p: Precision, flop: Option<f64>, basis: &mut Vec<String>) -> Option<f64> {
    if let Some(b) = w.bytes_per_step {
        basis.push("bytes per step: declared".into());
        return Some(b);
    }
    let bpe = p.bytes() as f64;
    let streaming = flop.map(|f| f * w.streaming_share() * STREAM_VALUES_PER_FLOP * bpe);
    let weights = w.parameters.map(|n| {
        let n = n as f64;
        match w.mode {
            WorkloadMode::Inference => n * bpe,
            // Weights read forward and backward, gradients written, Adam's f32 states read and written.
            WorkloadMode::Training => n * (3.0 * bpe + 16.0),
        }
    });
    if weights.is_none() && streaming.is_none_or(|s| s == 0.0) {
        return None;
    }
    basis.push(match w.mode {
        WorkloadMode::Inference => "bytes per step: weights read once, plus 3 values per streaming flop".into(),
        WorkloadMode::Training => {
            "bytes per step: weights read twice, gradients written, Adam states read and written, plus 3 values \
             per streaming flop"
                .into()
        }
    });
    Some(weights.unwrap_or(0.0) + streaming.unwrap_or(0.0))
}

/// Device memory at precision `p`.
pub(crate) fn memory(w: &Workload, p: Precision, basis: &mut Vec<String>) -> Option<u64> {
    if let Some(m) = w.memory_bytes {
        basis.push("memory: declared".into());
        return Some(m);
    }
    let from_params = w.parameters.map(|n| match w.mode {
        WorkloadMode::Inference => n * p.bytes(),
        // Mixed precision: low-precision weights and gradients, f32 master weights and Adam m, v.
        WorkloadMode::Training if p.bytes() < 4 => n * (2 * p.bytes() + 12),
        WorkloadMode::Training => n * 16,
    });
    match (w.profile.as_ref().and_then(|m| m.peak_memory_bytes), from_params) {
        (Some(measured), _) if p == w.precision => {
            basis.push("memory: the peak measured in an earlier run".into());
            Some(measured)
        }
        (_, Some(m)) => {
            basis.push(match w.mode {
                WorkloadMode::Inference => {
                    format!("memory: weights, N × {} bytes (activations not counted)", p.bytes())
                }
                WorkloadMode::Training => {
                    "memory: weights, gradients and Adam states (ZeRO accounting; activations not counted)".into()
                }
            });
            Some(m)
        }
        (Some(measured), None) => {
            basis.push("memory: the peak measured in an earlier run (at the declared precision)".into());
            Some(measured)
        }
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::workload::{OpClass, OpShare};

    #[test]
    fn a_7b_model_follows_the_standard_accounting() {
        let w = Workload {
            parameters: Some(7_000_000_000),
            precision: Precision::Bf16,
            batch_size: Some(4),
            tokens_per_sample: Some(1000),
            ..Workload::default()
        };
        let n = needs(&w);
        assert_eq!(n.flop_per_step, Some(2.0 * 7e9 * 4000.0));
        assert_eq!(n.memory_bytes, Some(14_000_000_000));
        assert_eq!(n.bytes_per_step, Some(14e9));
        let t = needs(&Workload { mode: WorkloadMode::Training, ..w.clone() });
        assert_eq!(t.flop_per_step, Some(6.0 * 7e9 * 4000.0));
        assert_eq!(t.memory_bytes, Some(7_000_000_000 * 16), "ZeRO: 16 bytes per parameter in mixed precision");
        let mixed = Workload { operations: vec![OpShare { class: OpClass::Elementwise, share: 1.0 }], ..w };
        assert_eq!(needs(&mixed).bytes_per_step, Some(14e9 + 2.0 * 7e9 * 4000.0 * 3.0 * 2.0));
    }

    #[test]
    fn what_is_not_declared_stays_unknown() {
        let w = Workload { flop_per_step: Some(1e12), ..Workload::default() };
        let n = needs(&w);
        assert_eq!((n.bytes_per_step, n.memory_bytes), (None, None));
    }
}
