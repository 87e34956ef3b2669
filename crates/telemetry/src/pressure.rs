//! Pressure stall information from `/proc/pressure/{cpu,memory,io}` (Linux 4.20+, CONFIG_PSI).

use std::path::PathBuf;

use steward_core::{Pressure, PsiLine, PsiResource, Reading, Snapshot};

use crate::sysfs::{read_into, under};
use crate::{Collector, Cost, TelemetryError};

fn parse_line(line: &str) -> Option<PsiLine> {
    let mut avg = [None; 3];
    let mut total = None;
    for kv in line.split_ascii_whitespace().skip(1) {
        let (k, v) = kv.split_once('=')?;
        match k {
            "avg10" => avg[0] = v.parse().ok(),
            "avg60" => avg[1] = v.parse().ok(),
            "avg300" => avg[2] = v.parse().ok(),
            "total" => total = v.parse().ok(),
            _ => {}
        }
    }
    Some(PsiLine { avg10: avg[0]?, avg60: avg[1]?, avg300: avg[2]?, total_us: total? })
}

pub fn parse_psi(text: &str) -> Option<PsiResource> {
    let mut some = None;
    let mut full = None;
    for line in text.lines() {
        if line.starts_with("some ") {
            some = Some(parse_line(line)?);
        } else if line.starts_with("full ") {
            full = Some(parse_line(line)?);
        }
    }
    Some(PsiResource { some: some?, full })
}

pub struct PressureCollector {
    root: PathBuf,
    buf: String,
}

impl PressureCollector {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        PressureCollector { root: root.into(), buf: String::new() }
    }

    fn resource(&mut self, name: &str) -> Reading<PsiResource> {
        let path = under(&self.root, &format!("/proc/pressure/{name}"));
        match read_into(&path, &mut self.buf) {
            Ok(()) => parse_psi(&self.buf)
                .ok_or_else(|| TelemetryError::parse(&path, "expected 'some avg10=.. avg60=.. avg300=.. total=..'"))
                .into(),
            Err(TelemetryError::Missing { .. }) => Reading::unavailable(format!(
                "no {} (kernel without pressure stall information, CONFIG_PSI)",
                path.display()
            )),
            // Some kernels build PSI but disable it at boot (psi=0): reads fail with EOPNOTSUPP.
            Err(e) => Reading::unavailable(e.to_string()),
        }
    }
}

impl Collector for PressureCollector {
    fn name(&self) -> &'static str {
        "pressure"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, _now_ms: i64, snap: &mut Snapshot) {
        let cpu = self.resource("cpu");
        let memory = self.resource("memory");
        let io = self.resource("io");
        snap.pressure = if let (Some(r), Some(_), Some(_)) = (cpu.reason(), memory.reason(), io.reason()) {
            Reading::unavailable(r.to_string())
        } else {
            Reading::from(Pressure { cpu, memory, io })
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn parses_all_three_resources() {
        let mut c = PressureCollector::new(fixture("x86_64_a"));
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        let p = snap.pressure.value().unwrap();
        let cpu = p.cpu.value().unwrap();
        assert_eq!(cpu.some, PsiLine { avg10: 1.53, avg60: 0.87, avg300: 0.45, total_us: 45398617 });
        assert_eq!(cpu.full, Some(PsiLine { avg10: 0.0, avg60: 0.0, avg300: 0.0, total_us: 0 }));
        let io = p.io.value().unwrap();
        assert_eq!(io.full.unwrap().total_us, 84022345);
        assert_eq!(p.memory.value().unwrap().some.avg60, 0.12);
    }

    #[test]
    fn old_kernel_cpu_has_no_full_line() {
        let r = parse_psi("some avg10=0.10 avg60=0.20 avg300=0.30 total=42\n").unwrap();
        assert_eq!(r.full, None);
        assert_eq!(r.some.total_us, 42);
        assert_eq!(parse_psi("some avg10=x avg60=0.20 avg300=0.30 total=42\n"), None);
        assert_eq!(parse_psi(""), None);
    }

    #[test]
    fn absent_psi_is_unavailable_with_reason() {
        let mut c = PressureCollector::new(fixture("vm_a"));
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        assert!(snap.pressure.reason().unwrap().contains("CONFIG_PSI"), "{:?}", snap.pressure);
    }
}
