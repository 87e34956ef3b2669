//! How close to the roofline a task really runs: the roofline time on the device it ran on
//! over the time it measured there, from its own earlier run or from similar tasks' runs
//! (same mode and framework, size within 2×). Without a measurement the estimate stays the
//! roofline bound, and says so.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::device::DeviceProfile;
use super::needs::needs;
use super::published::published_profile;
use super::roofline::estimate;
use super::workload::Workload;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Efficiency {
    /// Achieved / roofline, in (0, 1].
    pub value: f64,
    pub basis: String,
}

impl Efficiency {
    pub fn roofline() -> Efficiency {
        Efficiency {
            value: 1.0,
            basis: "no measured run of this or a similar task: estimates are the roofline bound (best case)".into(),
        }
    }
}

/// The efficiency for `w`: its own profile first, then the median over similar past runs.
pub fn efficiency(w: &Workload, history: &[Workload], devices: &[DeviceProfile]) -> Efficiency {
    if let Some(e) = measured(w, devices) {
        return Efficiency { value: e, basis: format!("its earlier run: {:.0}% of the roofline", e * 100.0) };
    }
    let mut similar: Vec<f64> = history.iter().filter(|h| similar(w, h)).filter_map(|h| measured(h, devices)).collect();
    if similar.is_empty() {
        return Efficiency::roofline();
    }
    similar.sort_by(f64::total_cmp);
    let median = similar[similar.len() / 2];
    Efficiency {
        value: median,
        basis: format!("median of {} similar past runs: {:.0}% of the roofline", similar.len(), median * 100.0),
    }
}

/// Roofline over measured step time on the device the run names, when both are known.
fn measured(w: &Workload, devices: &[DeviceProfile]) -> Option<f64> {
    let p = w.profile.as_ref()?;
    // A device of the fleet by that name, else its datasheet.
    let d = devices.iter().find(|d| d.name == p.device).cloned().or_else(|| published_profile("", "", &p.device, 0))?;
    let n = needs(w);
    let roof = estimate(n.flop_per_step?, n.bytes_per_step, 1, w.precision, &d, 1.0).ok()?;
    Some((roof.step_s / (p.step_time_ms / 1000.0)).clamp(1e-3, 1.0))
}

fn similar(w: &Workload, h: &Workload) -> bool {
    let size = |x: &Workload| x.parameters.map(|p| p as f64).or(x.flop_per_step);
    let close = match (size(w), size(h)) {
        (Some(a), Some(b)) => a / b <= 2.0 && b / a <= 2.0,
        _ => false,
    };
    close && w.mode == h.mode && w.framework == h.framework
}
