//! A node as the allocation engine sees it, built from what telemetry reports: cores and memory
//! from the inventory, GPUs (with their memory) from the NVML reading, other accelerators from
//! the inventory's adapters. The local node and every remote agent go through this one mapping.

use std::collections::BTreeMap;

use super::model::{Accelerator, GpuResource, NodeResources};
use crate::{GpuStats, Inventory, Reading};

/// `node` named as allocations will name it; `gpus` an NVML reading (unavailable = no GPUs).
pub fn node_from_telemetry(node: &str, inventory: &Inventory, gpus: &Reading<Vec<GpuStats>>, labels: BTreeMap<String, String>) -> NodeResources {
    let gpus = gpus
        .value()
        .map(|list| {
            list.iter()
                .map(|g| GpuResource {
                    id: NodeResources::gpu_id(node, g.index),
                    index: g.index,
                    name: g.name.clone(),
                    // Unknown memory stays 0: whole-GPU allocations still work, shares do not.
                    memory_bytes: g.memory_total_bytes.value().copied().unwrap_or(0),
                    mig: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    // NVIDIA GPUs come from NVML above; software rasterizers and CPUs are no accelerators.
    let accelerators = inventory
        .adapters
        .value()
        .map(|list| {
            list.iter()
                .filter(|a| !a.is_software && a.device_type != "cpu" && !a.name.to_lowercase().contains("nvidia"))
                .enumerate()
                .map(|(i, a)| Accelerator { id: format!("{node}/{}{i}", a.backend), kind: a.device_type.clone(), name: a.name.clone() })
                .collect()
        })
        .unwrap_or_default();
    NodeResources { node: node.to_string(), cores: inventory.logical_cores, memory_bytes: inventory.memory_total_bytes, labels, gpus, accelerators }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Adapter;

    fn gpu(index: u32, memory: Reading<u64>) -> GpuStats {
        let na = || Reading::unavailable("n/a");
        GpuStats {
            index,
            uuid: format!("GPU-{index}"),
            name: format!("Test GPU {index}"),
            utilization_pct: na(),
            memory_utilization_pct: na(),
            memory_used_bytes: Reading::unavailable("n/a"),
            memory_total_bytes: memory,
            power_w: na(),
            power_limit_w: na(),
            energy_j: na(),
            temperature_c: na(),
            sm_clock_mhz: Reading::unavailable("n/a"),
            memory_clock_mhz: Reading::unavailable("n/a"),
            throttle_reasons: Reading::unavailable("n/a"),
            processes: Reading::unavailable("n/a"),
            mig: Reading::unavailable("n/a"),
        }
    }

    fn adapter(name: &str, device_type: &str, software: bool) -> Adapter {
        Adapter {
            name: name.into(),
            backend: "vulkan".into(),
            device_type: device_type.into(),
            vendor_id: 0,
            device_id: 0,
            driver: String::new(),
            driver_info: String::new(),
            is_software: software,
            limits: Default::default(),
        }
    }

    fn inventory(adapters: Reading<Vec<Adapter>>) -> Inventory {
        Inventory {
            hostname: "h".into(),
            os: "linux".into(),
            kernel: "6".into(),
            cpu_model: "cpu".into(),
            logical_cores: 12,
            physical_cores: Some(6),
            memory_total_bytes: 64 << 30,
            adapters,
        }
    }

    #[test]
    fn gpus_accelerators_and_labels_map_onto_the_node() {
        let inv = inventory(Reading::from(vec![
            adapter("NVIDIA H100", "discrete_gpu", false),
            adapter("llvmpipe", "cpu", true),
            adapter("AMD Radeon", "discrete_gpu", false),
        ]));
        let gpus = Reading::from(vec![gpu(0, Reading::from(24u64 << 30)), gpu(1, Reading::unavailable("not supported"))]);
        let labels: BTreeMap<String, String> = [("rack".to_string(), "a".to_string())].into();
        let n = node_from_telemetry("10.0.0.2:7000", &inv, &gpus, labels.clone());
        assert_eq!((n.node.as_str(), n.cores, n.memory_bytes, &n.labels), ("10.0.0.2:7000", 12, 64 << 30, &labels));
        let ids: Vec<(&str, u64)> = n.gpus.iter().map(|g| (g.id.as_str(), g.memory_bytes)).collect();
        assert_eq!(ids, [("10.0.0.2:7000/gpu0", 24 << 30), ("10.0.0.2:7000/gpu1", 0)]);
        assert_eq!(n.accelerators, [Accelerator { id: "10.0.0.2:7000/vulkan0".into(), kind: "discrete_gpu".into(), name: "AMD Radeon".into() }]);
    }

    #[test]
    fn no_driver_means_no_gpus() {
        let n = node_from_telemetry("n", &inventory(Reading::unavailable("no adapters")), &Reading::unavailable("no NVIDIA driver"), BTreeMap::new());
        assert!(n.gpus.is_empty() && n.accelerators.is_empty());
    }
}
