//! cpufreq knobs under `<root>/sys/devices/system/cpu/cpufreq/policyN`: `scaling_governor`,
//! `scaling_max_freq` (kHz, within the hardware range) and `energy_performance_preference`.

use std::io::Write;
use std::path::{Path, PathBuf};

use steward_core::power::{DeviceSettings, Knob, KnobState};

use super::{ControlError, PERMISSION_HINT};
use crate::sysfs::{list_prefixed, read_trimmed, read_u64, under};

fn policy_dir(root: &Path, policy: &str) -> PathBuf {
    under(root, "/sys/devices/system/cpu/cpufreq").join(policy)
}

fn file_of(knob: Knob) -> Option<&'static str> {
    match knob {
        Knob::CpuGovernor => Some("scaling_governor"),
        Knob::CpuMaxFreq => Some("scaling_max_freq"),
        Knob::CpuEpp => Some("energy_performance_preference"),
        _ => None,
    }
}

fn choices_file(knob: Knob) -> Option<&'static str> {
    match knob {
        Knob::CpuGovernor => Some("scaling_available_governors"),
        Knob::CpuEpp => Some("energy_performance_available_preferences"),
        _ => None,
    }
}

fn words(path: &Path) -> Vec<String> {
    read_trimmed(path).map(|s| s.split_ascii_whitespace().map(str::to_string).collect()).unwrap_or_default()
}

pub(super) fn devices(root: &Path) -> Vec<DeviceSettings> {
    let base = under(root, "/sys/devices/system/cpu/cpufreq");
    let names = list_prefixed(&base, "policy").unwrap_or_default();
    names
        .into_iter()
        .map(|policy| {
            let dir = base.join(&policy);
            let state = |knob: Knob, unit: &str| -> Option<KnobState> {
                let current = read_trimmed(&dir.join(file_of(knob)?)).ok()?;
                let (min, max) = if knob == Knob::CpuMaxFreq {
                    (
                        read_u64(&dir.join("cpuinfo_min_freq")).ok().map(|v| v as f64),
                        read_u64(&dir.join("cpuinfo_max_freq")).ok().map(|v| v as f64),
                    )
                } else {
                    (None, None)
                };
                Some(KnobState {
                    knob,
                    current: Some(current),
                    min,
                    max,
                    default: None,
                    choices: choices_file(knob).map(|f| words(&dir.join(f))).unwrap_or_default(),
                    unit: unit.into(),
                })
            };
            let knobs = [state(Knob::CpuGovernor, ""), state(Knob::CpuMaxFreq, "kHz"), state(Knob::CpuEpp, "")];
            DeviceSettings {
                name: format!("CPU {policy}"),
                device: policy,
                knobs: knobs.into_iter().flatten().collect(),
            }
        })
        .collect()
}

pub(super) fn read(root: &Path, policy: &str, knob: Knob) -> Result<Option<String>, ControlError> {
    let path = policy_dir(root, policy).join(file_of(knob).expect("a CPU knob"));
    read_trimmed(&path).map(Some).map_err(|e| ControlError::Unavailable(e.to_string()))
}

/// Checks `value` against what the policy accepts, then opens the file for writing (the
/// permission check) and, unless `dry_run`, writes it.
pub(super) fn set(root: &Path, policy: &str, knob: Knob, value: &str, dry_run: bool) -> Result<(), ControlError> {
    let dir = policy_dir(root, policy);
    let path = dir.join(file_of(knob).expect("a CPU knob"));
    if !path.exists() {
        return Err(ControlError::Unavailable(format!("{policy} has no {} ({})", knob.as_str(), path.display())));
    }
    if let Some(f) = choices_file(knob) {
        let choices = words(&dir.join(f));
        if !choices.is_empty() && !choices.iter().any(|c| c == value) {
            return Err(ControlError::Refused(format!("{policy}: {value:?} is not one of {}", choices.join(", "))));
        }
    }
    if knob == Knob::CpuMaxFreq {
        let khz: u64 = value.parse().unwrap_or_default();
        let (lo, hi) = (read_u64(&dir.join("cpuinfo_min_freq")), read_u64(&dir.join("cpuinfo_max_freq")));
        if let (Ok(lo), Ok(hi)) = (lo, hi)
            && !(lo..=hi).contains(&khz)
        {
            return Err(ControlError::Refused(format!("{policy}: {khz} kHz is outside its range {lo}–{hi} kHz")));
        }
    }
    let would = format!("write {value:?} to {}", path.display());
    let denied = |reason: String| ControlError::Denied { would: would.clone(), reason };
    let mut file = std::fs::OpenOptions::new().write(true).open(&path).map_err(|e| match e.raw_os_error() {
        Some(code) if code == libc::EROFS => denied(format!("the file system is read-only; {PERMISSION_HINT}")),
        _ if e.kind() == std::io::ErrorKind::PermissionDenied => {
            denied(format!("permission denied (cpufreq files are writable by root only; {PERMISSION_HINT})"))
        }
        _ => ControlError::Unavailable(format!("cannot open {}: {e}", path.display())),
    })?;
    if dry_run {
        return Ok(());
    }
    file.write_all(value.as_bytes())
        .map_err(|e| ControlError::Refused(format!("the kernel refused {value:?} for {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A writable copy of the x86_64_a fixture's cpufreq policies.
    fn writable_tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let src = crate::sysfs::tests_support::fixture("x86_64_a").join("sys/devices/system/cpu/cpufreq");
        let dst = dir.path().join("sys/devices/system/cpu/cpufreq");
        for policy in list_prefixed(&src, "policy").unwrap() {
            std::fs::create_dir_all(dst.join(&policy)).unwrap();
            for f in std::fs::read_dir(src.join(&policy)).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), dst.join(&policy).join(f.file_name())).unwrap();
            }
        }
        dir
    }

    #[test]
    fn writes_within_range_and_refuses_outside_it() {
        let tree = writable_tree();
        let root = tree.path();
        set(root, "policy3", Knob::CpuMaxFreq, "2400000", false).unwrap();
        assert_eq!(read(root, "policy3", Knob::CpuMaxFreq).unwrap().as_deref(), Some("2400000"));
        let e = set(root, "policy3", Knob::CpuMaxFreq, "9900000", false).unwrap_err();
        assert!(matches!(e, ControlError::Refused(ref m) if m.contains("400000–4200000")), "{e}");
        let e = set(root, "policy3", Knob::CpuGovernor, "ondemand", false).unwrap_err();
        assert!(e.to_string().contains("performance, powersave"), "{e}");
        set(root, "policy3", Knob::CpuGovernor, "performance", true).unwrap();
        assert_eq!(read(root, "policy3", Knob::CpuGovernor).unwrap().as_deref(), Some("powersave"), "dry run wrote");
        let d = devices(root);
        assert_eq!(d.len(), 4);
        assert_eq!(d[3].knob(Knob::CpuMaxFreq).unwrap().max, Some(4_200_000.0));
    }

    #[test]
    fn a_read_only_file_is_a_dry_run_that_says_why() {
        if nix_is_root() {
            return; // root writes through mode bits; the NVML NO_PERMISSION test covers denial then
        }
        let tree = writable_tree();
        let path = tree.path().join("sys/devices/system/cpu/cpufreq/policy0/scaling_governor");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = set(tree.path(), "policy0", Knob::CpuGovernor, "performance", false).unwrap_err();
        assert!(matches!(e, ControlError::Denied { ref would, .. } if would.contains("performance")), "{e}");
    }

    fn nix_is_root() -> bool {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
            .unwrap_or(false)
    }
}
