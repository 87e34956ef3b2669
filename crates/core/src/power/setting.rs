//! A power setting: which knob of which device on which node, and the value asked for. Values
//! travel as text (`"187.5"` W, `"1200-1500"` MHz, `"powersave"`) so one journal row and one
//! gRPC message fit every knob; [`PowerChange::validate`] checks them per knob.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::alloc::FieldError;

/// A setting the power manager can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Knob {
    /// NVML power management limit, in watts, within the device's min/max constraints.
    GpuPowerLimit,
    /// NVML locked graphics clocks, `MIN-MAX` in MHz, or `default` to unlock.
    GpuLockedClocks,
    /// cpufreq `scaling_governor` of one policy.
    CpuGovernor,
    /// cpufreq `scaling_max_freq` of one policy, in kHz.
    CpuMaxFreq,
    /// cpufreq `energy_performance_preference` of one policy.
    CpuEpp,
}

impl Knob {
    pub const ALL: [Knob; 5] =
        [Knob::GpuPowerLimit, Knob::GpuLockedClocks, Knob::CpuGovernor, Knob::CpuMaxFreq, Knob::CpuEpp];

    /// The wire and journal name, e.g. `gpu_power_limit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Knob::GpuPowerLimit => "gpu_power_limit",
            Knob::GpuLockedClocks => "gpu_locked_clocks",
            Knob::CpuGovernor => "cpu_governor",
            Knob::CpuMaxFreq => "cpu_max_freq",
            Knob::CpuEpp => "cpu_epp",
        }
    }

    pub fn parse(s: &str) -> Option<Knob> {
        Knob::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_gpu(self) -> bool {
        matches!(self, Knob::GpuPowerLimit | Knob::GpuLockedClocks)
    }
}

/// One change asked for: set `knob` of `device` (`gpu0`, `policy3`) on `node` to `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PowerChange {
    pub node: String,
    pub device: String,
    pub knob: Knob,
    pub value: String,
}

/// The GPU index of a device named `gpuN`.
pub fn gpu_index(device: &str) -> Option<u32> {
    device.strip_prefix("gpu").filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()
}

/// True for a cpufreq policy directory name, `policyN`.
pub fn is_cpu_policy(device: &str) -> bool {
    device
        .strip_prefix("policy")
        .is_some_and(|d| !d.is_empty() && d.len() <= 5 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Watts in a value, as NVML's milliwatts.
pub fn parse_watts(value: &str) -> Option<u32> {
    let w: f64 = value.trim().parse().ok()?;
    (w.is_finite() && w > 0.0 && w <= 10_000.0).then(|| (w * 1000.0).round() as u32)
}

/// `MIN-MAX` MHz; `None` inside for `default` (unlocked).
pub fn parse_clock_range(value: &str) -> Option<Option<(u32, u32)>> {
    if value == "default" {
        return Some(None);
    }
    let (lo, hi) = value.split_once('-')?;
    let (lo, hi): (u32, u32) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    (lo > 0 && lo <= hi && hi <= 10_000).then_some(Some((lo, hi)))
}

/// A sysfs word: short, lower case, digits and underscores (what the kernel lists).
fn is_sysfs_word(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 32
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl PowerChange {
    /// Every problem with this change, fields named under `prefix` (e.g. `change`).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let field = |f: &str| if prefix.is_empty() { f.to_string() } else { format!("{prefix}.{f}") };
        let mut errors = Vec::new();
        if self.node.is_empty() || self.node.len() > 128 {
            errors.push(FieldError::new(field("node"), "must name a node (1–128 characters; `local` is this machine)"));
        }
        let device_ok =
            if self.knob.is_gpu() { gpu_index(&self.device).is_some() } else { is_cpu_policy(&self.device) };
        if !device_ok {
            let want = if self.knob.is_gpu() { "a GPU as `gpuN`" } else { "a cpufreq policy as `policyN`" };
            errors.push(FieldError::new(field("device"), format!("{} needs {want}", self.knob.as_str())));
        }
        if let Some(problem) = value_problem(self.knob, &self.value) {
            errors.push(FieldError::new(field("value"), problem));
        }
        errors
    }
}

/// Why `value` is not a value of `knob`, or `None` when it is.
pub fn value_problem(knob: Knob, value: &str) -> Option<String> {
    let ok = match knob {
        Knob::GpuPowerLimit => parse_watts(value).is_some(),
        Knob::GpuLockedClocks => parse_clock_range(value).is_some(),
        Knob::CpuGovernor | Knob::CpuEpp => is_sysfs_word(value),
        Knob::CpuMaxFreq => value.parse::<u64>().is_ok_and(|k| k > 0 && k < 100_000_000),
    };
    (!ok).then(|| {
        match knob {
            Knob::GpuPowerLimit => "must be watts, a number above 0 (e.g. \"200\")",
            Knob::GpuLockedClocks => "must be \"MIN-MAX\" in MHz (e.g. \"1200-1500\") or \"default\"",
            Knob::CpuGovernor => "must be a governor name such as \"powersave\"",
            Knob::CpuEpp => "must be a preference such as \"balance_power\"",
            Knob::CpuMaxFreq => "must be a frequency in kHz (e.g. \"2400000\")",
        }
        .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(device: &str, knob: Knob, value: &str) -> PowerChange {
        PowerChange { node: "local".into(), device: device.into(), knob, value: value.into() }
    }

    #[test]
    fn values_are_checked_per_knob() {
        assert!(change("gpu0", Knob::GpuPowerLimit, "187.5").validate("").is_empty());
        assert_eq!(parse_watts("187.5"), Some(187_500));
        assert!(change("gpu1", Knob::GpuLockedClocks, "1200-1500").validate("").is_empty());
        assert!(change("policy3", Knob::CpuMaxFreq, "2400000").validate("").is_empty());
        let e = change("policy0", Knob::GpuPowerLimit, "-5").validate("change");
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["change.device", "change.value"]);
        assert_eq!(change("gpu0", Knob::CpuGovernor, "../x").validate("").len(), 2);
        assert!(parse_clock_range("1500-1200").is_none());
    }

    #[test]
    fn knob_names_round_trip() {
        for k in Knob::ALL {
            assert_eq!(Knob::parse(k.as_str()), Some(k));
        }
    }
}
