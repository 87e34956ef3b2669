//! A GPU's average power and throughput over a window, for the planner. Power comes from the
//! energy counter's difference (the mean of power readings where there is none); throughput
//! from SM clock × utilization, the work a busy GPU does per second up to a constant (the
//! planner compares ratios, so the constant cancels).

use std::time::{Duration, Instant};

use nvml_wrapper::enum_wrappers::device::Clock;
use steward_core::power::Measurement;

use super::ControlError;
use super::nvml_knobs::NvmlHandle;

const STEP: Duration = Duration::from_millis(100);

struct Sample {
    energy_mj: Option<u64>,
    power_mw: Option<u32>,
    work: Option<f64>,
}

fn sample(nvml: &NvmlHandle, index: u32) -> Result<Sample, ControlError> {
    nvml.with(|n| {
        let d = n.device_by_index(index).map_err(|e| ControlError::Unavailable(format!("no gpu{index}: {e}")))?;
        let work = match (d.clock_info(Clock::SM), d.utilization_rates()) {
            (Ok(mhz), Ok(u)) => Some(f64::from(mhz) * f64::from(u.gpu) / 100.0),
            _ => None,
        };
        Ok(Sample { energy_mj: d.total_energy_consumption().ok(), power_mw: d.power_usage().ok(), work })
    })
}

pub(super) fn gpu(nvml: &NvmlHandle, index: u32, duration: Duration) -> Result<Measurement, ControlError> {
    let first = sample(nvml, index)?;
    // The window is from the first reading to the last, which the energy difference spans.
    let start = Instant::now();
    let (mut powers, mut works) = (Vec::new(), Vec::new());
    let mut last = first.energy_mj;
    let mut seconds;
    loop {
        std::thread::sleep(STEP);
        let s = sample(nvml, index)?;
        seconds = start.elapsed().as_secs_f64();
        powers.extend(s.power_mw.map(f64::from));
        works.extend(s.work);
        last = s.energy_mj.or(last);
        if start.elapsed() >= duration {
            break;
        }
    }
    let mean = |v: &[f64]| if v.is_empty() { None } else { Some(v.iter().sum::<f64>() / v.len() as f64) };
    let power_w = match (first.energy_mj, last) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / seconds / 1000.0,
        _ => mean(&powers).ok_or_else(|| ControlError::Unavailable(format!("gpu{index} reports no power")))? / 1000.0,
    };
    let throughput = mean(&works)
        .ok_or_else(|| ControlError::Unavailable(format!("gpu{index} reports neither SM clock nor utilization")))?;
    Ok(Measurement { throughput, power_w, seconds })
}
