//! Number formats a workload computes in, with their storage size; devices publish a peak per
//! format (`DeviceProfile::peak_flops`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Precision {
    #[default]
    F32,
    /// TensorFloat-32: f32 storage, reduced-precision tensor-core math.
    Tf32,
    Bf16,
    F16,
    Fp8,
    Int8,
}

impl Precision {
    pub const ALL: [Precision; 6] =
        [Precision::F32, Precision::Tf32, Precision::Bf16, Precision::F16, Precision::Fp8, Precision::Int8];

    /// Bytes one value takes in memory.
    pub fn bytes(self) -> u64 {
        match self {
            Precision::F32 | Precision::Tf32 => 4,
            Precision::Bf16 | Precision::F16 => 2,
            Precision::Fp8 | Precision::Int8 => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Tf32 => "tf32",
            Precision::Bf16 => "bf16",
            Precision::F16 => "f16",
            Precision::Fp8 => "fp8",
            Precision::Int8 => "int8",
        }
    }

    /// Whether training in this format is common practice (int8 is for inference).
    pub fn trains(self) -> bool {
        self != Precision::Int8
    }
}
