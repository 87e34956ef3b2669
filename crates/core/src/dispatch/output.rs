//! A partition's output: the limits on what is kept as its result (lines and bytes, per task or
//! the executor's default), and the record of a cut — where it is and how much was left out —
//! so no output is ever cut silently.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::alloc::FieldError;

/// Most lines and bytes of a partition's output kept as its result; past either, the output is
/// cut there (and the whole of it spilled to a file the API streams). Absent fields take the
/// executor's defaults (`[dispatch] max_output_lines`, `max_output_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct OutputLimits {
    #[serde(default)]
    #[ts(type = "number | null")]
    pub max_lines: Option<u64>,
    #[serde(default)]
    #[ts(type = "number | null")]
    pub max_bytes: Option<u64>,
}

/// Largest limits a task may ask for: its kept output lives in memory and in the database.
pub const MAX_OUTPUT_LINES: u64 = 10_000_000;
pub const MAX_OUTPUT_BYTES: u64 = 256 << 20;

impl OutputLimits {
    /// These limits with the defaults filled in.
    pub fn or(self, defaults: OutputLimits) -> OutputLimits {
        OutputLimits {
            max_lines: self.max_lines.or(defaults.max_lines),
            max_bytes: self.max_bytes.or(defaults.max_bytes),
        }
    }

    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.max_lines.is_some_and(|n| n == 0 || n > MAX_OUTPUT_LINES) {
            errors.push(FieldError::new(format!("{prefix}.max_lines"), format!("must be 1–{MAX_OUTPUT_LINES}")));
        }
        if self.max_bytes.is_some_and(|n| n == 0 || n > MAX_OUTPUT_BYTES) {
            errors.push(FieldError::new(format!("{prefix}.max_bytes"), format!("must be 1–{MAX_OUTPUT_BYTES}")));
        }
        errors
    }
}

/// Where a partition's output was cut and how much it left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OutputCut {
    /// Lines and bytes kept as the result: the cut comes after them.
    #[ts(type = "number")]
    pub kept_lines: u64,
    #[ts(type = "number")]
    pub kept_bytes: u64,
    /// All the task wrote to stdout.
    #[ts(type = "number")]
    pub total_lines: u64,
    #[ts(type = "number")]
    pub total_bytes: u64,
    /// Which limit cut it: the lines' or the bytes'.
    pub by: CutBy,
    /// Bytes of the whole output in the file the API streams
    /// (`GET /api/executions/{id}/partitions/{index}/output`).
    #[ts(type = "number")]
    pub spilled_bytes: u64,
    /// Lines the agent no longer held when they were read (it keeps a bounded tail per task):
    /// they are in neither the result nor the file.
    #[ts(type = "number")]
    pub lost_lines: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CutBy {
    #[default]
    Lines,
    Bytes,
    /// Nothing was over a limit, but lines were lost on the way (`lost_lines`).
    Loss,
}

/// An ended attempt's output as the executor hands it to the engine.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttemptOutput {
    pub lines: Vec<String>,
    pub cut: Option<OutputCut>,
}

impl From<Vec<String>> for AttemptOutput {
    /// Output kept whole.
    fn from(lines: Vec<String>) -> Self {
        AttemptOutput { lines, cut: None }
    }
}
