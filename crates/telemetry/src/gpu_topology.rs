//! The slow-changing side of NVIDIA GPUs, read once with the inventory: each GPU's model,
//! compute capability, clock and power limits, and how the GPUs of this node are connected
//! (active NVLinks between them, else the PCIe level where their paths meet).

use std::path::Path;

use nvml_wrapper::enum_wrappers::device::{Clock, TopologyLevel};
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::{Device, Nvml};
use steward_core::Reading;
use steward_core::accel::{GpuInfo, GpuLink, PcieLevel};

use crate::gpu_nvidia::{nvml_reason, open_nvml};

/// NVML's `NVML_NVLINK_MAX_LINKS`: the most NVLinks one GPU has.
const MAX_NVLINKS: u32 = 18;

/// The GPUs and their links; both unavailable, with NVML's reason, when NVML cannot start.
pub fn gpu_topology(lib: Option<&Path>) -> (Reading<Vec<GpuInfo>>, Reading<Vec<GpuLink>>) {
    let nvml = match open_nvml(lib) {
        Ok(n) => n,
        Err(reason) => return (Reading::unavailable(reason.clone()), Reading::unavailable(reason)),
    };
    let devices = match devices(&nvml) {
        Ok(d) => d,
        Err(e) => {
            let reason = format!("NVML device list failed: {}", nvml_reason(&e));
            return (Reading::unavailable(reason.clone()), Reading::unavailable(reason));
        }
    };
    let infos: Vec<GpuInfo> = devices.iter().enumerate().map(|(i, d)| info(i as u32, d)).collect();
    let links = links(&nvml, &devices, &infos);
    (Reading::from(infos), links)
}

fn devices(nvml: &Nvml) -> Result<Vec<Device<'_>>, NvmlError> {
    (0..nvml.device_count()?).map(|i| nvml.device_by_index(i)).collect()
}

fn rd<T>(r: Result<T, NvmlError>) -> Reading<T> {
    r.map_err(|e| nvml_reason(&e)).into()
}

fn info(index: u32, d: &Device<'_>) -> GpuInfo {
    GpuInfo {
        index,
        uuid: d.uuid().unwrap_or_default(),
        name: d.name().unwrap_or_default(),
        pci_bus_id: rd(d.pci_info().map(|p| p.bus_id)),
        memory_total_bytes: rd(d.memory_info().map(|m| m.total)),
        compute_capability: rd(d.cuda_compute_capability().map(|c| format!("{}.{}", c.major, c.minor))),
        max_sm_clock_mhz: rd(d.max_clock_info(Clock::SM)),
        max_memory_clock_mhz: rd(d.max_clock_info(Clock::Memory)),
        // NVML reports milliwatts.
        power_limit_range_w: rd(d
            .power_management_limit_constraints()
            .map(|c| (c.min_limit as f64 / 1000.0, c.max_limit as f64 / 1000.0))),
        default_power_limit_w: rd(d.power_management_limit_default().map(|mw| mw as f64 / 1000.0)),
        mig_capable: d.mig_mode().is_ok(),
    }
}

fn pcie_level(level: TopologyLevel) -> PcieLevel {
    match level {
        TopologyLevel::Internal => PcieLevel::SameBoard,
        TopologyLevel::Single => PcieLevel::SingleSwitch,
        TopologyLevel::Multiple => PcieLevel::MultipleSwitches,
        TopologyLevel::HostBridge => PcieLevel::HostBridge,
        TopologyLevel::Node => PcieLevel::NumaNode,
        TopologyLevel::System => PcieLevel::System,
    }
}

/// One link per pair of GPUs: NVLinks counted from the lower index's side (each link shows at
/// both ends), the PCIe level from NVML's common ancestor.
fn links(nvml: &Nvml, devices: &[Device<'_>], infos: &[GpuInfo]) -> Reading<Vec<GpuLink>> {
    let mut out = Vec::new();
    for (a, da) in devices.iter().enumerate() {
        let peers = nvlink_peers(da, infos);
        for b in a + 1..devices.len() {
            // The call takes the other device by value: a second handle to it.
            let other = nvml.device_by_index(b as u32);
            let pcie = rd(other.and_then(|db| da.topology_common_ancestor(db)).map(pcie_level));
            let nvlinks = peers.iter().filter(|p| **p == b as u32).count() as u32;
            out.push(GpuLink { a: a as u32, b: b as u32, nvlinks, pcie });
        }
    }
    Reading::from(out)
}

/// The GPU index at the far end of each active NVLink of `d` (links to NVSwitches or other
/// hosts' devices are not GPUs of this node and are left out).
fn nvlink_peers(d: &Device<'_>, infos: &[GpuInfo]) -> Vec<u32> {
    let mut peers = Vec::new();
    for link in 0..MAX_NVLINKS {
        let wrapper = d.link_wrapper_for(link);
        match wrapper.is_active() {
            Ok(true) => {}
            Ok(false) => continue,
            // No NVLink on this GPU (NOT_SUPPORTED) or past its last link.
            Err(_) => break,
        }
        let Ok(remote) = wrapper.remote_pci_info() else { continue };
        if let Some(peer) = infos.iter().find(|i| i.pci_bus_id.value().is_some_and(|b| same_bus(b, &remote.bus_id))) {
            peers.push(peer.index);
        }
    }
    peers
}

/// Bus ids compare without case and leading zeros of the domain (`0000:3B:00.0` is
/// `00000000:3b:00.0`).
fn same_bus(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let (domain, rest) = s.split_once(':').unwrap_or(("0", s));
        let domain = u32::from_str_radix(domain, 16).unwrap_or(0);
        format!("{domain:x}:{}", rest.to_ascii_lowercase())
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_ids_compare_as_nvml_prints_them_both_ways() {
        assert!(same_bus("00000000:3B:00.0", "0000:3b:00.0"));
        assert!(!same_bus("00000000:3B:00.0", "00000000:3C:00.0"));
    }

    fn link(a: u32, b: u32, nvlinks: u32, pcie: PcieLevel) -> GpuLink {
        GpuLink { a, b, nvlinks, pcie: Reading::from(pcie) }
    }

    #[test]
    fn fake_nvml_facts_and_topology_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let lib = crate::fake_nvml::build_fake_nvml(dir.path()).expect("cc builds the fake NVML");
        // Power limits follow the power model (no curve: 100–300 W, default 300 W).
        // The fake's default: two GPUs on one switch, joined by NVLinks 0 and 1.
        let (gpus, links) = gpu_topology(Some(&lib));
        let gpus = gpus.value().unwrap_or_else(|| panic!("{gpus:?}"));
        assert_eq!(gpus.len(), 2);
        let g1 = &gpus[1];
        assert_eq!(g1.name, "Fake NVIDIA GPU 1");
        assert_eq!(g1.pci_bus_id, Reading::from("00000000:11:00.0".to_string()));
        assert_eq!(g1.compute_capability, Reading::from("9.0".to_string()));
        assert_eq!(g1.max_sm_clock_mhz, Reading::from(1980));
        assert_eq!(g1.max_memory_clock_mhz, Reading::from(2619));
        assert_eq!(g1.power_limit_range_w, Reading::from((100.0, 300.0)));
        assert_eq!(g1.default_power_limit_w, Reading::from(300.0));
        assert_eq!(g1.memory_total_bytes, Reading::from(24u64 << 30));
        assert!(!g1.mig_capable, "the fake without a MIG GPU says MIG is not supported");
        assert_eq!(links, Reading::from(vec![link(0, 1, 2, PcieLevel::SingleSwitch)]));
    }

    /// Four GPUs in a child (the fake reads its GPU count at init): pairs on NVLink and one
    /// switch, 0–2 and 1–3 by one NVLink across the host bridge, 0–3 and 1–2 by PCIe only.
    #[test]
    fn four_gpus_form_two_nvlink_pairs_across_a_host_bridge() {
        if std::env::var_os("FAKE_NVML_TOPOLOGY_CHILD").is_none() {
            let status = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "gpu_topology::tests::four_gpus_form_two_nvlink_pairs_across_a_host_bridge"])
                .env("FAKE_NVML_TOPOLOGY_CHILD", "1")
                .env("FAKE_NVML_GPU_COUNT", "4")
                .status()
                .unwrap();
            assert!(status.success());
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let lib = crate::fake_nvml::build_fake_nvml(dir.path()).unwrap();
        let (_, links) = gpu_topology(Some(&lib));
        assert_eq!(
            links,
            Reading::from(vec![
                link(0, 1, 2, PcieLevel::SingleSwitch),
                link(0, 2, 1, PcieLevel::HostBridge),
                link(0, 3, 0, PcieLevel::HostBridge),
                link(1, 2, 0, PcieLevel::HostBridge),
                link(1, 3, 1, PcieLevel::HostBridge),
                link(2, 3, 2, PcieLevel::SingleSwitch),
            ])
        );
        assert_eq!(links.value().unwrap()[2].kind(), "pcie");
    }

    #[test]
    fn without_nvlink_gpus_are_joined_by_pcie_only() {
        if std::env::var_os("FAKE_NVML_TOPOLOGY_CHILD").is_none() {
            let status = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "gpu_topology::tests::without_nvlink_gpus_are_joined_by_pcie_only"])
                .env("FAKE_NVML_TOPOLOGY_CHILD", "1")
                .env("FAKE_NVML_NO_NVLINK", "1")
                .status()
                .unwrap();
            assert!(status.success());
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let lib = crate::fake_nvml::build_fake_nvml(dir.path()).unwrap();
        let (_, links) = gpu_topology(Some(&lib));
        assert_eq!(links, Reading::from(vec![link(0, 1, 0, PcieLevel::SingleSwitch)]));
    }

    #[test]
    fn missing_library_leaves_both_unavailable_with_the_reason() {
        let (gpus, links) = gpu_topology(Some(Path::new("/nonexistent/libnvidia-ml.so.1")));
        assert!(gpus.reason().unwrap().starts_with("no NVIDIA driver"), "{gpus:?}");
        assert_eq!(gpus.reason(), links.reason());
    }
}
