//! The NVML knobs and the measurement against the fake libnvidia-ml with a power model.

use std::time::Duration;

use steward_core::power::Knob;

use super::{ControlError, PowerControl};
use crate::fake_nvml::build_fake_nvml_with_power;

/// ResNet-50 on a V100 (Zeus NSDI '23 trace, batch 256): limit, 1/epoch seconds × 1e4, watts.
const CURVE: &str = "* 100 1.4747 98.38; * 150 2.4104 144.59; * 200 2.7020 184.94; * 250 2.8450 220.25";

fn control(dir: &tempfile::TempDir, no_permission: bool) -> PowerControl {
    let lib = build_fake_nvml_with_power(dir.path(), CURVE, no_permission).unwrap();
    PowerControl::new("/nonexistent-root", Some(&lib))
}

#[test]
fn power_limit_changes_within_constraints_and_power_follows() {
    let dir = tempfile::tempdir().unwrap();
    let c = control(&dir, false);
    let gpus = c.devices();
    assert_eq!(gpus.len(), 2);
    let limit = gpus[0].knob(Knob::GpuPowerLimit).unwrap();
    assert_eq!((limit.min, limit.max, limit.current.as_deref()), (Some(100.0), Some(250.0), Some("250")));
    let full = c.measure("gpu0", Duration::from_millis(300)).unwrap();
    assert!((full.power_w - 220.25).abs() < 3.0, "{full:?}");
    c.set("gpu0", Knob::GpuPowerLimit, "150", false).unwrap();
    assert_eq!(c.read("gpu0", Knob::GpuPowerLimit).unwrap().as_deref(), Some("150"));
    let capped = c.measure("gpu0", Duration::from_millis(300)).unwrap();
    assert!((capped.power_w - 144.59).abs() < 3.0, "{capped:?}");
    // SM clock follows the curve's throughput: 2.4104 / 2.8450 of full speed.
    let ratio = capped.throughput / full.throughput;
    assert!((ratio - 2.4104 / 2.8450).abs() < 0.01, "{ratio}");
    let e = c.set("gpu0", Knob::GpuPowerLimit, "300", false).unwrap_err();
    assert!(matches!(e, ControlError::Refused(ref m) if m.contains("100–250 W")), "{e}");
    assert_eq!(c.read("gpu1", Knob::GpuPowerLimit).unwrap().as_deref(), Some("250"), "one GPU at a time");
}

#[test]
fn no_permission_answers_what_it_would_do_and_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let c = control(&dir, true);
    let e = c.set("gpu1", Knob::GpuPowerLimit, "200", false).unwrap_err();
    let ControlError::Denied { would, reason } = e else { panic!("{e:?}") };
    assert!(would.contains("gpu1") && would.contains("200 W"), "{would}");
    assert!(reason.contains("NO_PERMISSION"), "{reason}");
    assert_eq!(c.read("gpu1", Knob::GpuPowerLimit).unwrap().as_deref(), Some("250"));
}
