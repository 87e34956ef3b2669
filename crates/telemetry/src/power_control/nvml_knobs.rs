//! GPU knobs through NVML: the power management limit (within its constraints) and locked
//! graphics clocks. NVML is initialised on first use and kept.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use nvml_wrapper::Nvml;
use nvml_wrapper::enums::device::GpuLockedClocksSetting;
use nvml_wrapper::error::NvmlError;
use steward_core::power::setting::{parse_clock_range, parse_watts};
use steward_core::power::{DeviceSettings, Knob, KnobState};

use super::{ControlError, PERMISSION_HINT};

pub struct NvmlHandle {
    lib: Option<PathBuf>,
    nvml: Mutex<Option<Result<Nvml, String>>>,
}

fn watts(mw: u32) -> String {
    let w = f64::from(mw) / 1000.0;
    if w.fract() == 0.0 { format!("{w:.0}") } else { format!("{w}") }
}

fn nvml_reason(e: &NvmlError) -> String {
    match e {
        NvmlError::NotSupported => "not supported by this GPU/driver".into(),
        NvmlError::NoPermission => "NVML: insufficient permissions".into(),
        NvmlError::GpuLost => "the GPU has fallen off the bus".into(),
        NvmlError::FailedToLoadSymbol(_) => "this driver's NVML lacks the call".into(),
        e => format!("NVML error: {e}"),
    }
}

impl NvmlHandle {
    pub fn new(lib: Option<&Path>) -> Self {
        NvmlHandle { lib: lib.map(Path::to_path_buf), nvml: Mutex::new(None) }
    }

    /// Runs `f` with NVML, initialising it on first use.
    pub(super) fn with<T>(&self, f: impl FnOnce(&Nvml) -> Result<T, ControlError>) -> Result<T, ControlError> {
        let mut guard = self.nvml.lock().map_err(|_| ControlError::Unavailable("NVML lock poisoned".into()))?;
        let state = guard.get_or_insert_with(|| {
            let mut b = Nvml::builder();
            if let Some(p) = &self.lib {
                b.lib_path(p.as_os_str());
            }
            b.init().map_err(|e| format!("no NVIDIA GPU control: {}", nvml_reason(&e)))
        });
        match state {
            Ok(nvml) => f(nvml),
            Err(reason) => Err(ControlError::Unavailable(reason.clone())),
        }
    }

    pub(super) fn devices(&self) -> Vec<DeviceSettings> {
        self.with(|nvml| {
            let count = nvml.device_count().map_err(|e| ControlError::Unavailable(nvml_reason(&e)))?;
            Ok((0..count).filter_map(|i| nvml.device_by_index(i).ok().map(|d| device_settings(i, &d))).collect())
        })
        .unwrap_or_default()
    }

    pub(super) fn read(&self, index: u32, knob: Knob) -> Result<Option<String>, ControlError> {
        self.with(|nvml| {
            let d = device(nvml, index)?;
            match knob {
                Knob::GpuPowerLimit => d
                    .power_management_limit()
                    .map(|mw| Some(watts(mw)))
                    .map_err(|e| ControlError::Unavailable(format!("gpu{index}: {}", nvml_reason(&e)))),
                // NVML has no query for locked clocks.
                _ => Ok(None),
            }
        })
    }

    pub(super) fn set(&self, index: u32, knob: Knob, value: &str, dry_run: bool) -> Result<(), ControlError> {
        self.with(|nvml| {
            let mut d = device(nvml, index)?;
            let (would, result) = match knob {
                Knob::GpuPowerLimit => {
                    let mw = parse_watts(value).unwrap_or_default();
                    let c = d.power_management_limit_constraints().map_err(|e| {
                        ControlError::Unavailable(format!("gpu{index}: power limit constraints: {}", nvml_reason(&e)))
                    })?;
                    if mw < c.min_limit || mw > c.max_limit {
                        return Err(ControlError::Refused(format!(
                            "gpu{index}: {value} W is outside its power limit range {}–{} W",
                            watts(c.min_limit),
                            watts(c.max_limit)
                        )));
                    }
                    let would = format!("set gpu{index}'s power limit to {} W", watts(mw));
                    // NVML has no permission query: a dry run sets the limit in effect again.
                    let current = d.power_management_limit().unwrap_or(mw);
                    (would, d.set_power_management_limit(if dry_run { current } else { mw }))
                }
                Knob::GpuLockedClocks => match parse_clock_range(value).flatten() {
                    Some((lo, hi)) => {
                        let would = format!("lock gpu{index}'s graphics clocks to {lo}–{hi} MHz");
                        let r = if dry_run {
                            Ok(())
                        } else {
                            d.set_gpu_locked_clocks(GpuLockedClocksSetting::Numeric {
                                min_clock_mhz: lo,
                                max_clock_mhz: hi,
                            })
                        };
                        (would, r)
                    }
                    None => {
                        let would = format!("unlock gpu{index}'s graphics clocks");
                        (would, if dry_run { Ok(()) } else { d.reset_gpu_locked_clocks() })
                    }
                },
                other => {
                    return Err(ControlError::Unavailable(format!("gpu{index} has no setting {}", other.as_str())));
                }
            };
            match result {
                Ok(()) => Ok(()),
                Err(NvmlError::NoPermission) => Err(ControlError::Denied {
                    would,
                    reason: format!(
                        "NVML answered NO_PERMISSION (changing GPU settings needs root; {PERMISSION_HINT})"
                    ),
                }),
                Err(NvmlError::InvalidArg) => Err(ControlError::Refused(format!(
                    "gpu{index}: the driver refused {value:?} for {}",
                    knob.as_str()
                ))),
                Err(e) => Err(ControlError::Unavailable(format!("gpu{index}: {}", nvml_reason(&e)))),
            }
        })
    }
}

fn device(nvml: &Nvml, index: u32) -> Result<nvml_wrapper::Device<'_>, ControlError> {
    nvml.device_by_index(index).map_err(|e| ControlError::Unavailable(format!("no gpu{index}: {}", nvml_reason(&e))))
}

fn device_settings(index: u32, d: &nvml_wrapper::Device<'_>) -> DeviceSettings {
    let limits = d.power_management_limit_constraints().ok();
    let limit = KnobState {
        knob: Knob::GpuPowerLimit,
        current: d.power_management_limit().ok().map(watts),
        min: limits.as_ref().map(|c| f64::from(c.min_limit) / 1000.0),
        max: limits.as_ref().map(|c| f64::from(c.max_limit) / 1000.0),
        default: d.power_management_limit_default().ok().map(watts),
        choices: Vec::new(),
        unit: "W".into(),
    };
    let clocks = KnobState {
        knob: Knob::GpuLockedClocks,
        current: None,
        min: None,
        max: d.max_clock_info(nvml_wrapper::enum_wrappers::device::Clock::Graphics).ok().map(f64::from),
        default: Some("default".into()),
        choices: Vec::new(),
        unit: "MHz".into(),
    };
    DeviceSettings { device: format!("gpu{index}"), name: d.name().unwrap_or_default(), knobs: vec![limit, clocks] }
}
