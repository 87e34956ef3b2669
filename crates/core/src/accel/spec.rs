//! An accelerator registered by config (`[[accelerators]]`) or API: a TPU, FPGA, NPU or a GPU
//! no driver reports, described by its owner. Every field is checked, each with its own error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::alloc::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AcceleratorKind {
    Gpu,
    Tpu,
    Fpga,
    Npu,
    Other,
}

/// Number formats an accelerator computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SpecPrecision {
    Fp64,
    Fp32,
    Tf32,
    Bf16,
    Fp16,
    Fp8,
    Int8,
    Int4,
}

/// The node a registration belongs to when it names none: this machine.
fn local_node() -> String {
    "local".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AcceleratorSpec {
    /// Unique on its node: letters, digits, `.`, `_`, `-`.
    pub id: String,
    #[serde(default = "local_node")]
    pub node: String,
    pub kind: AcceleratorKind,
    pub model: String,
    #[ts(type = "number")]
    pub memory_bytes: u64,
    pub precisions: Vec<SpecPrecision>,
    /// Published peak per precision: TFLOPS for floating point, TOPS for integers.
    #[serde(default)]
    pub peak_tflops: BTreeMap<SpecPrecision, f64>,
    #[serde(default)]
    #[ts(optional)]
    pub memory_bandwidth_gbps: Option<f64>,
    /// argv run on the node; exit status 0 means healthy.
    #[serde(default)]
    #[ts(optional)]
    pub health_check: Option<Vec<String>>,
}

const MAX_ID: usize = 64;
const MAX_MODEL: usize = 128;
const MAX_ARGS: usize = 64;
/// Above any accelerator built or announced (an exaflop chip is 1e6 TFLOPS).
const MAX_TFLOPS: f64 = 1e6;
const MAX_GBPS: f64 = 1e6;

fn is_name(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn positive(v: f64, max: f64) -> bool {
    v.is_finite() && v > 0.0 && v <= max
}

impl AcceleratorSpec {
    /// Every problem, each named `prefix.field` (or `field` with an empty prefix).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let at = |f: &str| if prefix.is_empty() { f.to_string() } else { format!("{prefix}.{f}") };
        let mut errors = Vec::new();
        if !is_name(&self.id, MAX_ID) {
            errors.push(FieldError::new(at("id"), format!("must be 1–{MAX_ID} letters, digits, '.', '_' or '-'")));
        }
        if !is_name(&self.node, MAX_ID) {
            errors.push(FieldError::new(
                at("node"),
                format!("must be a node id of 1–{MAX_ID} letters, digits, '.', '_' or '-'"),
            ));
        }
        if self.model.trim().is_empty() || self.model.len() > MAX_MODEL || self.model.chars().any(char::is_control) {
            errors.push(FieldError::new(at("model"), format!("must be 1–{MAX_MODEL} printable characters")));
        }
        if self.memory_bytes == 0 {
            errors.push(FieldError::new(at("memory_bytes"), "must be more than 0"));
        }
        self.check_precisions(&at, &mut errors);
        if let Some(bw) = self.memory_bandwidth_gbps.filter(|v| !positive(*v, MAX_GBPS)) {
            errors.push(FieldError::new(
                at("memory_bandwidth_gbps"),
                format!("must be a number of GB/s in (0, {MAX_GBPS}], not {bw}"),
            ));
        }
        if let Some(argv) = &self.health_check {
            check_argv(argv, &at("health_check"), &mut errors);
        }
        errors
    }

    fn check_precisions(&self, at: &impl Fn(&str) -> String, errors: &mut Vec<FieldError>) {
        if self.precisions.is_empty() {
            errors.push(FieldError::new(at("precisions"), "must name at least one precision, e.g. [\"fp16\"]"));
        }
        for (i, p) in self.precisions.iter().enumerate() {
            if self.precisions[..i].contains(p) {
                errors.push(FieldError::new(
                    format!("{}[{i}]", at("precisions")),
                    format!("{} is listed twice", p.name()),
                ));
            }
        }
        for (p, v) in &self.peak_tflops {
            let field = format!("{}.{}", at("peak_tflops"), p.name());
            if !self.precisions.contains(p) {
                errors.push(FieldError::new(field, format!("{} is not among the precisions", p.name())));
            } else if !positive(*v, MAX_TFLOPS) {
                errors.push(FieldError::new(field, format!("must be a number in (0, {MAX_TFLOPS}], not {v}")));
            }
        }
    }
}

fn check_argv(argv: &[String], field: &str, errors: &mut Vec<FieldError>) {
    if argv.is_empty() || argv[0].trim().is_empty() {
        errors.push(FieldError::new(field, "must be a command and its arguments, e.g. [\"tpu-info\", \"--check\"]"));
    } else if argv.len() > MAX_ARGS {
        errors.push(FieldError::new(field, format!("has {} arguments; at most {MAX_ARGS}", argv.len())));
    } else if let Some(i) = argv.iter().position(|a| a.contains('\0')) {
        errors.push(FieldError::new(format!("{field}[{i}]"), "must not contain a NUL byte"));
    }
}

impl AcceleratorKind {
    /// The name as written in requests (and in `accelerator_kind` constraints), e.g. `tpu`.
    pub fn name(self) -> &'static str {
        match self {
            AcceleratorKind::Gpu => "gpu",
            AcceleratorKind::Tpu => "tpu",
            AcceleratorKind::Fpga => "fpga",
            AcceleratorKind::Npu => "npu",
            AcceleratorKind::Other => "other",
        }
    }
}

impl SpecPrecision {
    /// The name as written in requests, e.g. `fp16`.
    pub fn name(self) -> &'static str {
        match self {
            SpecPrecision::Fp64 => "fp64",
            SpecPrecision::Fp32 => "fp32",
            SpecPrecision::Tf32 => "tf32",
            SpecPrecision::Bf16 => "bf16",
            SpecPrecision::Fp16 => "fp16",
            SpecPrecision::Fp8 => "fp8",
            SpecPrecision::Int8 => "int8",
            SpecPrecision::Int4 => "int4",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tpu() -> AcceleratorSpec {
        AcceleratorSpec {
            id: "tpu0".into(),
            node: "local".into(),
            kind: AcceleratorKind::Tpu,
            model: "Cloud TPU v5e".into(),
            memory_bytes: 16 << 30,
            precisions: vec![SpecPrecision::Bf16, SpecPrecision::Int8],
            peak_tflops: [(SpecPrecision::Bf16, 197.0), (SpecPrecision::Int8, 394.0)].into(),
            memory_bandwidth_gbps: Some(819.0),
            health_check: Some(vec!["true".into()]),
        }
    }

    #[test]
    fn a_complete_spec_is_valid() {
        assert_eq!(tpu().validate("accelerator"), vec![]);
    }

    #[test]
    fn every_wrong_field_is_named() {
        let spec = AcceleratorSpec {
            id: "tpu 0".into(),
            node: "".into(),
            model: " ".into(),
            memory_bytes: 0,
            precisions: vec![SpecPrecision::Bf16, SpecPrecision::Bf16],
            peak_tflops: [(SpecPrecision::Fp32, 1.0), (SpecPrecision::Bf16, f64::NAN)].into(),
            memory_bandwidth_gbps: Some(-1.0),
            health_check: Some(vec![]),
            ..tpu()
        };
        let fields: Vec<String> = spec.validate("a").into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "a.id",
                "a.node",
                "a.model",
                "a.memory_bytes",
                "a.precisions[1]",
                "a.peak_tflops.fp32",
                "a.peak_tflops.bf16",
                "a.memory_bandwidth_gbps",
                "a.health_check"
            ]
        );
    }

    #[test]
    fn node_defaults_to_this_machine() {
        let spec: AcceleratorSpec = serde_json::from_str(
            r#"{"id":"f1","kind":"fpga","model":"Alveo U250","memory_bytes":68719476736,"precisions":["int8"]}"#,
        )
        .unwrap();
        assert_eq!(spec.node, "local");
        assert!(spec.validate("").is_empty());
    }
}
