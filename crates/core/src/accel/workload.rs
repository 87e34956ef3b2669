//! What a task may declare about its work: model size, precision, batch, framework, operation
//! mix, or a profile measured in an earlier run. Every field is optional; the analyzer says
//! what it could not estimate for want of one. Validation names each bad field.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::precision::Precision;
use crate::alloc::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum WorkloadMode {
    #[default]
    Inference,
    Training,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Framework {
    Pytorch,
    Jax,
    Tensorflow,
    Onnx,
    Tensorrt,
    Other,
}

impl Framework {
    /// Whether it runs op by op unless told to compile (fusion is then worth advising).
    pub fn eager_by_default(self) -> bool {
        matches!(self, Framework::Pytorch | Framework::Tensorflow)
    }
}

/// Operation classes of a mix; matrix-like ones run on tensor units, the rest stream memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OpClass {
    Matmul,
    Convolution,
    Attention,
    Elementwise,
    Reduction,
}

impl OpClass {
    /// Elementwise and reduction ops read and write a value per flop or so: memory-bound.
    pub fn streams_memory(self) -> bool {
        matches!(self, OpClass::Elementwise | OpClass::Reduction)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OpShare {
    pub class: OpClass,
    /// Fraction of the step's floating-point operations, 0–1; the shares sum to 1.
    pub share: f64,
}

/// What an earlier run of the same task measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MeasuredProfile {
    /// The device it ran on, as named in the inventory (e.g. `NVIDIA A100-SXM4-80GB`).
    pub device: String,
    /// Mean time of one step (one batch).
    pub step_time_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub peak_memory_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub gpu_utilization_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Workload {
    #[serde(default)]
    pub mode: WorkloadMode,
    /// Model parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub parameters: Option<u64>,
    #[serde(default)]
    pub precision: Precision,
    /// Samples per step (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub batch_size: Option<u32>,
    /// Tokens (or positions) per sample (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub tokens_per_sample: Option<u32>,
    /// Steps the task runs (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub steps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub framework: Option<Framework>,
    /// Already compiled / fused (torch.compile, XLA, TensorRT).
    #[serde(default)]
    pub compiled: bool,
    /// Operation mix by share of flops.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<OpShare>,
    /// Floating-point operations of one step, when known better than from `parameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub flop_per_step: Option<f64>,
    /// Bytes moved to and from device memory in one step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub bytes_per_step: Option<f64>,
    /// Device memory the task needs, when known better than from `parameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub memory_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub profile: Option<MeasuredProfile>,
}

const MAX_PARAMETERS: u64 = 100_000_000_000_000;
const MAX_FIGURE: f64 = 1e24;

impl Workload {
    /// Every problem, per field (empty when valid).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut err = |f: &str, m: String| errors.push(FieldError::new(format!("{prefix}.{f}"), m));
        if self.parameters.is_some_and(|p| p == 0 || p > MAX_PARAMETERS) {
            err("parameters", format!("must be 1–{MAX_PARAMETERS}"));
        }
        if self.batch_size.is_some_and(|b| b == 0 || b > 1_000_000) {
            err("batch_size", "must be 1–1000000".into());
        }
        if self.tokens_per_sample.is_some_and(|t| t == 0 || t > 10_000_000) {
            err("tokens_per_sample", "must be 1–10000000".into());
        }
        if self.steps.is_some_and(|s| s == 0 || s > 1_000_000_000_000) {
            err("steps", "must be 1–1000000000000".into());
        }
        if self.mode == WorkloadMode::Training && !self.precision.trains() {
            err("precision", format!("{} is for inference; train in bf16, f16 or fp8", self.precision.name()));
        }
        for (field, v) in [("flop_per_step", self.flop_per_step), ("bytes_per_step", self.bytes_per_step)] {
            if v.is_some_and(|v| !(v.is_finite() && v > 0.0 && v <= MAX_FIGURE)) {
                err(field, "must be a number above 0 and at most 1e24".into());
            }
        }
        if self.memory_bytes == Some(0) {
            err("memory_bytes", "must be above 0".into());
        }
        if self.parameters.is_none() && self.flop_per_step.is_none() && self.profile.is_none() {
            err("parameters", "the workload declares no size: give parameters, flop_per_step or a profile".into());
        }
        errors.extend(self.operation_errors(prefix));
        if let Some(p) = &self.profile {
            errors.extend(p.validate(&format!("{prefix}.profile")));
        }
        errors
    }

    fn operation_errors(&self, prefix: &str) -> Vec<FieldError> {
        let field = format!("{prefix}.operations");
        let mut errors = Vec::new();
        for (i, op) in self.operations.iter().enumerate() {
            if !(op.share.is_finite() && (0.0..=1.0).contains(&op.share)) {
                errors.push(FieldError::new(format!("{field}[{i}].share"), "must be between 0 and 1"));
            }
            if self.operations[..i].iter().any(|o| o.class == op.class) {
                errors.push(FieldError::new(format!("{field}[{i}].class"), "is listed twice"));
            }
        }
        let sum: f64 = self.operations.iter().map(|o| o.share).sum();
        if errors.is_empty() && !self.operations.is_empty() && (sum - 1.0).abs() > 0.01 {
            errors.push(FieldError::new(field, format!("the shares must sum to 1, they sum to {sum:.3}")));
        }
        errors
    }

    pub fn batch(&self) -> u64 {
        u64::from(self.batch_size.unwrap_or(1))
    }

    pub fn tokens(&self) -> u64 {
        u64::from(self.tokens_per_sample.unwrap_or(1))
    }

    pub fn step_count(&self) -> u64 {
        self.steps.unwrap_or(1)
    }

    /// Share of flops in memory-streaming operations (0 when no mix is declared).
    pub fn streaming_share(&self) -> f64 {
        self.operations.iter().filter(|o| o.class.streams_memory()).map(|o| o.share).sum()
    }
}

impl MeasuredProfile {
    fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.device.trim().is_empty() || self.device.len() > 256 {
            errors.push(FieldError::new(format!("{prefix}.device"), "must name the device (1–256 bytes)"));
        }
        if !(self.step_time_ms.is_finite() && self.step_time_ms > 0.0) {
            errors.push(FieldError::new(format!("{prefix}.step_time_ms"), "must be a number above 0"));
        }
        if self.peak_memory_bytes == Some(0) {
            errors.push(FieldError::new(format!("{prefix}.peak_memory_bytes"), "must be above 0"));
        }
        if self.gpu_utilization_pct.is_some_and(|u| !(u.is_finite() && (0.0..=100.0).contains(&u))) {
            errors.push(FieldError::new(format!("{prefix}.gpu_utilization_pct"), "must be between 0 and 100"));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(w: &Workload) -> Vec<String> {
        w.validate("w").into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn each_bad_field_is_named() {
        let w = Workload {
            mode: WorkloadMode::Training,
            parameters: Some(0),
            precision: Precision::Int8,
            batch_size: Some(0),
            flop_per_step: Some(f64::NAN),
            operations: vec![
                OpShare { class: OpClass::Matmul, share: 1.5 },
                OpShare { class: OpClass::Matmul, share: 0.1 },
            ],
            profile: Some(MeasuredProfile {
                device: " ".into(),
                step_time_ms: 0.0,
                peak_memory_bytes: None,
                gpu_utilization_pct: Some(120.0),
            }),
            ..Workload::default()
        };
        assert_eq!(
            fields(&w),
            [
                "w.parameters",
                "w.batch_size",
                "w.precision",
                "w.flop_per_step",
                "w.operations[0].share",
                "w.operations[1].class",
                "w.profile.device",
                "w.profile.step_time_ms",
                "w.profile.gpu_utilization_pct"
            ]
        );
    }

    #[test]
    fn a_workload_needs_a_size_and_a_mix_that_sums_to_one() {
        assert_eq!(fields(&Workload::default()), ["w.parameters"]);
        let w = Workload {
            parameters: Some(7_000_000_000),
            operations: vec![
                OpShare { class: OpClass::Matmul, share: 0.5 },
                OpShare { class: OpClass::Elementwise, share: 0.2 },
            ],
            ..Workload::default()
        };
        assert_eq!(fields(&w), ["w.operations"]);
        let ok = Workload { operations: vec![OpShare { class: OpClass::Matmul, share: 1.0 }], ..w };
        assert!(ok.validate("w").is_empty());
    }
}
