//! NVIDIA GPUs through NVML (nvml-wrapper). NVML is initialised once, on the first collect, and
//! kept; every field is its own Reading so one unsupported query does not hide the others.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::{Clock, TemperatureSensor};
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::error::NvmlError;
use steward_core::{GpuMig, GpuProcess, GpuStats, MigDevice, Reading, Snapshot};

use crate::sampler::{Mode, interval_ms};
use crate::{Collector, Cost};

pub(crate) fn nvml_reason(e: &NvmlError) -> String {
    match e {
        NvmlError::NotSupported => "not supported by this GPU/driver".into(),
        NvmlError::NoPermission => "NVML denied the query (insufficient permissions)".into(),
        NvmlError::GpuLost => "the GPU has fallen off the bus".into(),
        e => format!("NVML error: {e}"),
    }
}

fn rd<T>(r: Result<T, NvmlError>) -> Reading<T> {
    match r {
        Ok(v) => Reading::from(v),
        Err(e) => Reading::unavailable(nvml_reason(&e)),
    }
}

/// Why NVML could not start, in words a user can act on.
fn init_reason(e: &NvmlError, lib: Option<&Path>) -> String {
    match e {
        NvmlError::LibloadingError(le) => match lib {
            Some(p) => format!("no NVIDIA driver: cannot load {} ({le})", p.display()),
            None => "no NVIDIA driver: libnvidia-ml.so.1 not found".into(),
        },
        NvmlError::DriverNotLoaded => "no NVIDIA driver: the kernel module is not loaded".into(),
        NvmlError::NoPermission => "NVML init denied (no permission on /dev/nvidia*)".into(),
        e => format!("NVML init failed: {e}"),
    }
}

/// NVML from `lib` (or the default library name), or why it cannot start.
pub(crate) fn open_nvml(lib: Option<&Path>) -> Result<Nvml, String> {
    let mut b = Nvml::builder();
    if let Some(p) = lib {
        b.lib_path(p.as_os_str());
    }
    b.init().map_err(|e| init_reason(&e, lib))
}

/// Throttle reason flag names as snake_case, e.g. `sw_power_cap`.
fn throttle_names(bits: nvml_wrapper::bitmasks::device::ThrottleReasons) -> Vec<String> {
    bits.iter_names().map(|(n, _)| n.to_ascii_lowercase()).collect()
}

enum State {
    NotStarted,
    Ready(Box<Nvml>),
    Failed(String),
}

pub struct NvidiaCollector {
    lib: Option<PathBuf>,
    state: State,
    /// Per-process queries walk every process on the GPU: refreshed at the expensive interval.
    proc_interval_ms: i64,
    procs: HashMap<u32, (i64, Reading<Vec<GpuProcess>>)>,
    /// Last process-utilization timestamp per GPU, so each query returns only new samples.
    util_ts: HashMap<u32, u64>,
}

impl NvidiaCollector {
    /// `lib`: explicit libnvidia-ml path; `None` lets nvml-wrapper search the default name.
    pub fn new(lib: Option<&Path>) -> Self {
        NvidiaCollector {
            lib: lib.map(Path::to_path_buf),
            state: State::NotStarted,
            proc_interval_ms: interval_ms(Mode::Active, Cost::Expensive),
            procs: HashMap::new(),
            util_ts: HashMap::new(),
        }
    }

    fn start(&mut self) {
        if !matches!(self.state, State::NotStarted) {
            return;
        }
        self.state = match open_nvml(self.lib.as_deref()) {
            Ok(n) => State::Ready(Box::new(n)),
            Err(reason) => State::Failed(reason),
        };
    }

    fn gpus(&mut self, now_ms: i64) -> Reading<Vec<GpuStats>> {
        self.start();
        let nvml = match &self.state {
            State::Ready(n) => n,
            State::Failed(r) => return Reading::unavailable(r.clone()),
            State::NotStarted => unreachable!("start() ran"),
        };
        let count = match nvml.device_count() {
            Ok(c) => c,
            Err(e) => return Reading::unavailable(format!("NVML device count failed: {e}")),
        };
        let mut out = Vec::with_capacity(count as usize);
        for index in 0..count {
            let d = match nvml.device_by_index(index) {
                Ok(d) => d,
                Err(e) => {
                    tracing::debug!(index, "NVML device handle: {e}");
                    continue;
                }
            };
            let util = d.utilization_rates();
            let mem = d.memory_info();
            let procs = match self.procs.get(&index) {
                Some((t, r)) if now_ms - t < self.proc_interval_ms => r.clone(),
                _ => {
                    let last = self.util_ts.get(&index).copied();
                    let r = gpu_processes(&d, last, &mut self.util_ts, index);
                    self.procs.insert(index, (now_ms, r.clone()));
                    r
                }
            };
            out.push(GpuStats {
                index,
                uuid: d.uuid().unwrap_or_default(),
                name: d.name().unwrap_or_default(),
                utilization_pct: rd(util.as_ref().map(|u| u.gpu as f64).map_err(clone_err)),
                memory_utilization_pct: rd(util.map(|u| u.memory as f64)),
                memory_used_bytes: rd(mem.as_ref().map(|m| m.used).map_err(clone_err)),
                memory_total_bytes: rd(mem.map(|m| m.total)),
                // NVML reports milliwatts and millijoules.
                power_w: rd(d.power_usage().map(|mw| mw as f64 / 1000.0)),
                power_limit_w: rd(d.enforced_power_limit().map(|mw| mw as f64 / 1000.0)),
                energy_j: rd(d.total_energy_consumption().map(|mj| mj as f64 / 1000.0)),
                temperature_c: rd(d.temperature(TemperatureSensor::Gpu).map(|c| c as f64)),
                sm_clock_mhz: rd(d.clock_info(Clock::SM)),
                memory_clock_mhz: rd(d.clock_info(Clock::Memory)),
                throttle_reasons: rd(d.current_throttle_reasons().map(throttle_names)),
                processes: procs,
                mig: gpu_mig(&d),
            });
        }
        Reading::from(out)
    }
}

/// NvmlError is not Clone; the variants we distinguish carry no data.
fn clone_err(e: &NvmlError) -> NvmlError {
    match e {
        NvmlError::NotSupported => NvmlError::NotSupported,
        NvmlError::NoPermission => NvmlError::NoPermission,
        NvmlError::GpuLost => NvmlError::GpuLost,
        _ => NvmlError::Unknown,
    }
}

/// nvml.h's value of an enabled MIG mode.
const NVML_DEVICE_MIG_ENABLE: u32 = 1;

/// MIG mode and, when it is on, the MIG devices (their profile from the name NVML gives them,
/// e.g. `NVIDIA A100-SXM4-40GB MIG 1g.5gb`).
fn gpu_mig(d: &nvml_wrapper::Device<'_>) -> Reading<GpuMig> {
    let mode = match d.mig_mode() {
        Ok(m) => m,
        Err(e) => return Reading::unavailable(nvml_reason(&e)),
    };
    if mode.current != NVML_DEVICE_MIG_ENABLE {
        return Reading::from(GpuMig { enabled: false, instances: Vec::new() });
    }
    let slots = match d.mig_device_count() {
        Ok(n) => n,
        Err(e) => return Reading::unavailable(format!("MIG devices: {}", nvml_reason(&e))),
    };
    let mut instances = Vec::new();
    for index in 0..slots {
        let m = match d.mig_device_by_index(index) {
            Ok(m) => m,
            // An empty slot: no instance was created there.
            Err(NvmlError::NotFound) | Err(NvmlError::InvalidArg) => continue,
            Err(e) => return Reading::unavailable(format!("MIG device {index}: {}", nvml_reason(&e))),
        };
        let name = m.name().unwrap_or_default();
        let profile = name.rsplit_once("MIG ").map_or(name.as_str(), |(_, p)| p).trim().to_string();
        instances.push(MigDevice {
            index,
            uuid: m.uuid().unwrap_or_default(),
            profile,
            memory_total_bytes: rd(m.memory_info().map(|i| i.total)),
        });
    }
    Reading::from(GpuMig { enabled: true, instances })
}

fn gpu_processes(
    d: &nvml_wrapper::Device<'_>,
    last_ts: Option<u64>,
    util_ts: &mut HashMap<u32, u64>,
    index: u32,
) -> Reading<Vec<GpuProcess>> {
    let compute = d.running_compute_processes();
    let graphics = d.running_graphics_processes();
    if let (Err(e), Err(_)) = (&compute, &graphics) {
        return Reading::unavailable(nvml_reason(e));
    }
    let mut list: Vec<GpuProcess> = Vec::new();
    for p in compute.into_iter().chain(graphics).flatten() {
        let used = match p.used_gpu_memory {
            UsedGpuMemory::Used(b) => Some(b),
            UsedGpuMemory::Unavailable => None,
        };
        match list.iter_mut().find(|g| g.pid == p.pid) {
            // A process using both compute and graphics appears in both lists.
            Some(g) => g.used_memory_bytes = g.used_memory_bytes.max(used),
            None => list.push(GpuProcess { pid: p.pid, used_memory_bytes: used, sm_utilization_pct: None }),
        }
    }
    // Per-process utilization is optional (Maxwell+); its absence leaves sm_utilization_pct None.
    if let Ok(samples) = d.process_utilization_stats(last_ts) {
        for s in samples {
            util_ts.insert(index, util_ts.get(&index).copied().unwrap_or(0).max(s.timestamp));
            if let Some(g) = list.iter_mut().find(|g| g.pid == s.pid) {
                g.sm_utilization_pct = Some(s.sm_util);
            }
        }
    }
    list.sort_by_key(|g| g.pid);
    Reading::from(list)
}

impl Collector for NvidiaCollector {
    fn name(&self) -> &'static str {
        "gpus"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot) {
        snap.gpus = self.gpus(now_ms);
    }
    fn set_mode(&mut self, mode: Mode) {
        self.proc_interval_ms = interval_ms(mode, Cost::Expensive);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_is_unavailable_with_reason() {
        let mut c = NvidiaCollector::new(Some(Path::new("/nonexistent/libnvidia-ml.so.1")));
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        let r = snap.gpus.reason().unwrap();
        assert!(r.starts_with("no NVIDIA driver: cannot load /nonexistent/libnvidia-ml.so.1"), "{r}");
    }

    #[test]
    fn fake_nvml_values_are_read_with_the_right_units() {
        let dir = tempfile::tempdir().unwrap();
        let lib = crate::fake_nvml::build_fake_nvml(dir.path()).expect("cc builds the fake NVML");
        // The fake reads FAKE_NVML_GPU_COUNT at nvmlInit; default 2 (not set in this process).
        let mut c = NvidiaCollector::new(Some(&lib));
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        let gpus = snap.gpus.value().unwrap_or_else(|| panic!("{:?}", snap.gpus));
        assert_eq!(gpus.len(), 2);
        for (i, g) in gpus.iter().enumerate() {
            let i32_ = i as u32;
            let f = i as f64;
            assert_eq!(g.index, i32_);
            assert_eq!(g.name, format!("Fake NVIDIA GPU {i}"));
            assert_eq!(g.uuid, format!("GPU-fake0000-0000-0000-0000-00000000000{i}"));
            assert_eq!(g.utilization_pct, Reading::from(10.0 + f * 20.0));
            assert_eq!(g.memory_utilization_pct, Reading::from(5.0 + f * 10.0));
            assert_eq!(g.memory_total_bytes, Reading::from(24u64 << 30));
            assert_eq!(g.memory_used_bytes, Reading::from((1u64 + i as u64) << 30));
            assert_eq!(g.power_w, Reading::from(100.5 + f * 50.0));
            assert_eq!(g.power_limit_w, Reading::from(300.0));
            // The counter integrates the power since the fake was loaded (a test takes < 10 min).
            let j = *g.energy_j.value().unwrap();
            let base = 123456.789 + f * 1000.0;
            assert!(j >= base && j < base + (100.5 + f * 50.0) * 600.0, "{j}");
            assert_eq!(g.temperature_c, Reading::from(40.0 + f * 5.0));
            assert_eq!(g.sm_clock_mhz, Reading::from(1500 + i32_ * 100));
            assert_eq!(g.memory_clock_mhz, Reading::from(9501));
        }
        assert_eq!(gpus[0].throttle_reasons, Reading::from(vec!["gpu_idle".to_string()]));
        assert_eq!(
            gpus[1].throttle_reasons,
            Reading::from(vec!["sw_power_cap".to_string(), "hw_thermal_slowdown".to_string()])
        );
        // GPU 0: compute pid 1000 (512 MiB) also in graphics; graphics pid 2000 (memory n/a).
        assert_eq!(
            gpus[0].processes,
            Reading::from(vec![
                GpuProcess { pid: 1000, used_memory_bytes: Some(512 << 20), sm_utilization_pct: Some(42) },
                GpuProcess { pid: 2000, used_memory_bytes: None, sm_utilization_pct: None },
            ])
        );
        // GPU 1 reports NOT_SUPPORTED for per-process queries and for process utilization.
        assert_eq!(gpus[1].processes.reason(), Some("not supported by this GPU/driver"));
        // No MIG in this build of the fake: the driver says so, per GPU.
        assert!(gpus.iter().all(|g| g.mig.reason() == Some("not supported by this GPU/driver")), "{:?}", gpus[0].mig);
    }

    #[test]
    fn mig_mode_and_devices_are_read_with_their_profiles_and_memory() {
        let dir = tempfile::tempdir().unwrap();
        let lib = crate::fake_nvml::build_fake_nvml_with_mig(dir.path(), 1).expect("cc builds the fake NVML");
        let mut c = NvidiaCollector::new(Some(&lib));
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        let gpus = snap.gpus.value().unwrap_or_else(|| panic!("{:?}", snap.gpus));
        assert_eq!(gpus[0].mig, Reading::from(GpuMig { enabled: false, instances: vec![] }));
        let dev = |index: u32, profile: &str, mib: u64| MigDevice {
            index,
            uuid: format!("MIG-fake0001-0000-0000-0000-00000000000{index}"),
            profile: profile.into(),
            memory_total_bytes: Reading::from(mib << 20),
        };
        // Slot 2 is empty and skipped; slot 3 holds the 2g instance.
        let expected = GpuMig {
            enabled: true,
            instances: vec![dev(0, "1g.6gb", 5952), dev(1, "1g.6gb", 5952), dev(3, "2g.12gb", 11968)],
        };
        assert_eq!(gpus[1].mig, Reading::from(expected));
        // The GPU itself still reads as before.
        assert_eq!(gpus[1].memory_total_bytes, Reading::from(24u64 << 30));
    }
}
