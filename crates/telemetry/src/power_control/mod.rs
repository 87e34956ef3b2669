//! Changing power settings on this machine: GPU power limits and locked clocks through NVML,
//! cpufreq governor, `scaling_max_freq` and energy-performance preference through sysfs (under a
//! root path, so tests write into fixture trees), and measuring a GPU's power and throughput for
//! the planner. Without permission the answer is [`ControlError::Denied`]: what it would do and
//! why it cannot, never a silent no-op.

mod cpufreq_knobs;
mod measure;
mod nvml_knobs;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use steward_core::power::setting::{gpu_index, is_cpu_policy};
use steward_core::power::{DeviceSettings, Knob, Measurement};

pub use nvml_knobs::NvmlHandle;

/// Why a setting was not changed, worded for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControlError {
    /// No permission: `would` says what it would have done, `reason` why it cannot.
    #[error("would {would}; cannot: {reason}")]
    Denied { would: String, reason: String },
    /// The device exists but refuses this value (outside its constraints, unknown governor).
    #[error("{0}")]
    Refused(String),
    /// No such device or knob on this machine.
    #[error("{0}")]
    Unavailable(String),
}

/// This machine's power knobs.
pub struct PowerControl {
    root: PathBuf,
    nvml: NvmlHandle,
}

impl PowerControl {
    /// `root`: the filesystem root for cpufreq (`/` outside tests); `nvml_lib`: an explicit
    /// libnvidia-ml path, `None` for the default name.
    pub fn new(root: impl Into<PathBuf>, nvml_lib: Option<&Path>) -> Self {
        PowerControl { root: root.into(), nvml: NvmlHandle::new(nvml_lib) }
    }

    /// Every GPU and cpufreq policy with its knobs; devices that cannot be read are left out.
    pub fn devices(&self) -> Vec<DeviceSettings> {
        let mut out = self.nvml.devices();
        out.extend(cpufreq_knobs::devices(&self.root));
        out
    }

    /// The value in effect now (`None` where the device cannot report it).
    pub fn read(&self, device: &str, knob: Knob) -> Result<Option<String>, ControlError> {
        match target(device, knob)? {
            Target::Gpu(i) => self.nvml.read(i, knob),
            Target::Policy => cpufreq_knobs::read(&self.root, device, knob),
        }
    }

    /// Sets `knob` to `value`; with `dry_run`, only checks that it could (permission included).
    pub fn set(&self, device: &str, knob: Knob, value: &str, dry_run: bool) -> Result<(), ControlError> {
        if let Some(problem) = steward_core::power::setting::value_problem(knob, value) {
            return Err(ControlError::Refused(format!("{}: {value:?} {problem}", knob.as_str())));
        }
        match target(device, knob)? {
            Target::Gpu(i) => self.nvml.set(i, knob, value, dry_run),
            Target::Policy => cpufreq_knobs::set(&self.root, device, knob, value, dry_run),
        }
    }

    /// A GPU's average power and throughput over `duration` (blocks for that long).
    pub fn measure(&self, device: &str, duration: Duration) -> Result<Measurement, ControlError> {
        match target(device, Knob::GpuPowerLimit) {
            Ok(Target::Gpu(i)) => measure::gpu(&self.nvml, i, duration),
            _ => Err(ControlError::Unavailable(format!("{device}: only GPUs (`gpuN`) can be measured"))),
        }
    }
}

enum Target {
    Gpu(u32),
    Policy,
}

fn target(device: &str, knob: Knob) -> Result<Target, ControlError> {
    match (gpu_index(device), is_cpu_policy(device), knob.is_gpu()) {
        (Some(i), _, true) => Ok(Target::Gpu(i)),
        (_, true, false) => Ok(Target::Policy),
        _ => Err(ControlError::Unavailable(format!("{device} has no setting {}", knob.as_str()))),
    }
}

/// How to grant permission, named in every denial.
pub(crate) const PERMISSION_HINT: &str = "see \"Power settings\" in docs/energy.md to grant it";
