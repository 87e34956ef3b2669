//! A node as the allocation engine sees it, built from what telemetry reports: cores and memory
//! from the inventory, GPUs (with their memory) from the NVML reading, other accelerators from
//! the inventory's adapters. The local node and every remote agent go through this one mapping.

use std::collections::BTreeMap;

use super::mig::instance_id;
use super::model::{Accelerator, GpuResource, MigInstance, NodeResources};
use crate::{GpuStats, Inventory, Reading};

/// `node` named as allocations will name it; `gpus` an NVML reading (unavailable = no GPUs).
pub fn node_from_telemetry(
    node: &str,
    inventory: &Inventory,
    gpus: &Reading<Vec<GpuStats>>,
    labels: BTreeMap<String, String>,
) -> NodeResources {
    let gpus = gpus
        .value()
        .map(|list| {
            list.iter()
                .map(|g| {
                    let id = NodeResources::gpu_id(node, g.index);
                    GpuResource {
                        mig: mig_instances(&id, g),
                        id,
                        index: g.index,
                        name: g.name.clone(),
                        // Unknown memory stays 0: whole-GPU allocations still work, shares do not.
                        memory_bytes: g.memory_total_bytes.value().copied().unwrap_or(0),
                    }
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
                .map(|(i, a)| Accelerator {
                    id: format!("{node}/{}{i}", a.backend),
                    kind: a.device_type.clone(),
                    name: a.name.clone(),
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(registered(node, inventory))
        .collect();
    NodeResources {
        node: node.to_string(),
        cores: inventory.logical_cores,
        memory_bytes: inventory.memory_total_bytes,
        labels,
        gpus,
        accelerators,
    }
}

/// Accelerators registered for the node (config, API or its agent), by their kind.
fn registered<'a>(node: &'a str, inventory: &'a Inventory) -> impl Iterator<Item = Accelerator> + 'a {
    inventory.accelerators.iter().map(move |s| Accelerator {
        id: format!("{node}/{}", s.id),
        kind: s.kind.name().into(),
        name: s.model.clone(),
    })
}

/// The GPU's MIG instances when MIG mode is on (an unknown instance memory stays 0: the
/// instance is still taken whole by its profile).
fn mig_instances(gpu_id: &str, g: &GpuStats) -> Vec<MigInstance> {
    let Some(m) = g.mig.value().filter(|m| m.enabled) else { return Vec::new() };
    m.instances
        .iter()
        .map(|d| MigInstance {
            id: instance_id(gpu_id, d.index),
            profile: d.profile.clone(),
            memory_bytes: d.memory_total_bytes.value().copied().unwrap_or(0),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Adapter, GpuMig, MigDevice};

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
            gpus: Reading::unavailable("none"),
            gpu_links: Reading::unavailable("none"),
            accelerators: Vec::new(),
        }
    }

    #[test]
    fn registered_accelerators_are_offered_by_their_kind() {
        use crate::accel::{AcceleratorKind, AcceleratorSpec, SpecPrecision};
        let mut inv = inventory(Reading::unavailable("no adapters"));
        inv.accelerators = vec![AcceleratorSpec {
            id: "tpu0".into(),
            node: "local".into(),
            kind: AcceleratorKind::Tpu,
            model: "TPU v5e".into(),
            memory_bytes: 16 << 30,
            precisions: vec![SpecPrecision::Bf16],
            peak_tflops: Default::default(),
            memory_bandwidth_gbps: None,
            health_check: None,
        }];
        let node = node_from_telemetry("n1", &inv, &Reading::unavailable("no NVML"), BTreeMap::new());
        assert_eq!(
            node.accelerators,
            vec![Accelerator { id: "n1/tpu0".into(), kind: "tpu".into(), name: "TPU v5e".into() }]
        );
    }

    #[test]
    fn gpus_accelerators_and_labels_map_onto_the_node() {
        let inv = inventory(Reading::from(vec![
            adapter("NVIDIA H100", "discrete_gpu", false),
            adapter("llvmpipe", "cpu", true),
            adapter("AMD Radeon", "discrete_gpu", false),
        ]));
        let gpus =
            Reading::from(vec![gpu(0, Reading::from(24u64 << 30)), gpu(1, Reading::unavailable("not supported"))]);
        let labels: BTreeMap<String, String> = [("rack".to_string(), "a".to_string())].into();
        let n = node_from_telemetry("10.0.0.2:7000", &inv, &gpus, labels.clone());
        assert_eq!((n.node.as_str(), n.cores, n.memory_bytes, &n.labels), ("10.0.0.2:7000", 12, 64 << 30, &labels));
        let ids: Vec<(&str, u64)> = n.gpus.iter().map(|g| (g.id.as_str(), g.memory_bytes)).collect();
        assert_eq!(ids, [("10.0.0.2:7000/gpu0", 24 << 30), ("10.0.0.2:7000/gpu1", 0)]);
        assert_eq!(
            n.accelerators,
            [Accelerator {
                id: "10.0.0.2:7000/vulkan0".into(),
                kind: "discrete_gpu".into(),
                name: "AMD Radeon".into()
            }]
        );
    }

    #[test]
    fn mig_instances_of_an_enabled_gpu_are_listed_under_it() {
        let dev = |index: u32, profile: &str, mem: Reading<u64>| MigDevice {
            index,
            uuid: format!("MIG-{index}"),
            profile: profile.into(),
            memory_total_bytes: mem,
        };
        let mut on = gpu(1, Reading::from(40u64 << 30));
        on.mig = Reading::from(GpuMig {
            enabled: true,
            instances: vec![
                dev(0, "1g.10gb", Reading::from(10u64 << 30)),
                dev(3, "2g.20gb", Reading::unavailable("n/a")),
            ],
        });
        let mut off = gpu(0, Reading::from(40u64 << 30));
        off.mig = Reading::from(GpuMig { enabled: false, instances: vec![] });
        let n = node_from_telemetry(
            "n",
            &inventory(Reading::unavailable("none")),
            &Reading::from(vec![off, on]),
            BTreeMap::new(),
        );
        assert!(n.gpus[0].mig.is_empty());
        let expected = vec![
            MigInstance { id: "n/gpu1/mig0".into(), profile: "1g.10gb".into(), memory_bytes: 10 << 30 },
            MigInstance { id: "n/gpu1/mig3".into(), profile: "2g.20gb".into(), memory_bytes: 0 },
        ];
        assert_eq!(n.gpus[1].mig, expected);
    }

    #[test]
    fn no_driver_means_no_gpus() {
        let n = node_from_telemetry(
            "n",
            &inventory(Reading::unavailable("no adapters")),
            &Reading::unavailable("no NVIDIA driver"),
            BTreeMap::new(),
        );
        assert!(n.gpus.is_empty() && n.accelerators.is_empty());
    }
}
