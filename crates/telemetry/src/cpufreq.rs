//! cpufreq policies from `/sys/devices/system/cpu/cpufreq/policy*` (frequencies in kHz).

use std::path::{Path, PathBuf};

use steward_core::{CpuFreqPolicy, Reading, Snapshot};

use crate::sysfs::{list_prefixed, read_trimmed, read_u64, under};
use crate::{Collector, Cost, TelemetryError};

pub struct CpuFreqCollector {
    root: PathBuf,
}

fn policy(dir: &Path, name: String) -> Result<CpuFreqPolicy, TelemetryError> {
    let words = |f: &str| -> Result<Vec<String>, TelemetryError> {
        Ok(read_trimmed(&dir.join(f))?.split_ascii_whitespace().map(str::to_string).collect())
    };
    let cpus_path = dir.join("affected_cpus");
    let cpus = words("affected_cpus")?
        .iter()
        .map(|c| c.parse::<u32>().map_err(|_| TelemetryError::parse(&cpus_path, format!("not a CPU number: {c:?}"))))
        .collect::<Result<_, _>>()?;
    Ok(CpuFreqPolicy {
        policy: name,
        cpus,
        governor: read_trimmed(&dir.join("scaling_governor"))?,
        available_governors: words("scaling_available_governors").unwrap_or_default(),
        // Offline policies and some drivers (intel_pstate passive without HWP) have no current value.
        current_khz: read_u64(&dir.join("scaling_cur_freq")).ok(),
        min_khz: read_u64(&dir.join("scaling_min_freq"))?,
        max_khz: read_u64(&dir.join("scaling_max_freq"))?,
        hardware_min_khz: read_u64(&dir.join("cpuinfo_min_freq"))?,
        hardware_max_khz: read_u64(&dir.join("cpuinfo_max_freq"))?,
    })
}

impl CpuFreqCollector {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        CpuFreqCollector { root: root.into() }
    }

    pub fn sample(&self) -> Result<Vec<CpuFreqPolicy>, TelemetryError> {
        let base = under(&self.root, "/sys/devices/system/cpu/cpufreq");
        let names = list_prefixed(&base, "policy")?;
        if names.is_empty() {
            return Err(TelemetryError::Missing { path: base.join("policy*") });
        }
        names.into_iter().map(|n| policy(&base.join(&n), n)).collect()
    }
}

impl Collector for CpuFreqCollector {
    fn name(&self) -> &'static str {
        "cpufreq"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, _now_ms: i64, snap: &mut Snapshot) {
        snap.cpufreq = match self.sample() {
            Ok(v) => Reading::from(v),
            Err(TelemetryError::Missing { .. }) => Reading::unavailable(
                "no cpufreq policies in /sys/devices/system/cpu/cpufreq (virtual machine or no cpufreq driver)",
            ),
            Err(e) => Reading::unavailable(e.to_string()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn reads_policies() {
        let v = CpuFreqCollector::new(fixture("x86_64_a")).sample().unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(
            v[3],
            CpuFreqPolicy {
                policy: "policy3".into(),
                cpus: vec![3],
                governor: "powersave".into(),
                available_governors: vec!["performance".into(), "powersave".into()],
                current_khz: Some(1199890),
                min_khz: 400000,
                max_khz: 4200000,
                hardware_min_khz: 400000,
                hardware_max_khz: 4200000,
            }
        );
    }

    #[test]
    fn absent_is_unavailable() {
        let mut snap = Snapshot::empty(0);
        CpuFreqCollector::new(fixture("vm_a")).collect(0, &mut snap);
        assert!(snap.cpufreq.reason().unwrap().contains("no cpufreq"));
    }
}
