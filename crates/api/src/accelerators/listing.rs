//! One node's accelerators as the view lists them: what its inventory reports, what was
//! registered for it (config, API, its agent), and its latest characterizations.

use steward_core::Reading;
use steward_core::accel::{AcceleratorSpec, Characterization, GpuInfo, MeasuredAdapter};
use steward_core::cluster::NodeView;

use super::body::{HealthCheck, NodeAccelerators, RegisteredAccelerator, RegistrationSource};
use crate::cluster::LOCAL_NODE;

/// PCI vendor id of NVIDIA.
const NVIDIA: u32 = 0x10de;

pub(crate) fn assemble(
    nodes: &[NodeView],
    configured: &[AcceleratorSpec],
    stored: &[AcceleratorSpec],
    measured: &[Characterization],
    health: &dyn Fn(&AcceleratorSpec) -> Reading<HealthCheck>,
) -> Vec<NodeAccelerators> {
    nodes
        .iter()
        .map(|n| {
            let inventory = n.inventory.as_ref();
            // This machine's inventory holds the config and API registrations (for its
            // scheduler node); only an agent's inventory adds its own.
            let from_agent =
                inventory.filter(|_| n.id != LOCAL_NODE).map(|i| i.accelerators.as_slice()).unwrap_or_default();
            let registered = [
                (configured, RegistrationSource::Config),
                (stored, RegistrationSource::Api),
                (from_agent, RegistrationSource::Agent),
            ]
            .into_iter()
            .flat_map(|(specs, source)| {
                // An agent's own list is of its node whatever `node` it names.
                specs
                    .iter()
                    .filter(move |s| source == RegistrationSource::Agent || s.node == n.id)
                    .map(move |s| (s, source))
            })
            .map(|(spec, source)| {
                let mut spec = spec.clone();
                if source == RegistrationSource::Agent {
                    spec.node = n.id.clone();
                }
                RegisteredAccelerator { health: health(&spec), spec, source }
            })
            .collect();
            NodeAccelerators {
                node: n.id.clone(),
                name: n.name.clone(),
                state: n.state,
                gpus: inventory.map_or_else(not_read, |i| i.gpus.clone()),
                gpu_links: inventory.map_or_else(not_read, |i| i.gpu_links.clone()),
                adapters: inventory.map_or_else(not_read, |i| i.adapters.clone()),
                registered,
                characterizations: measured.iter().filter(|c| c.node == n.id).cloned().collect(),
            }
        })
        .collect()
}

fn not_read<T>() -> Reading<T> {
    Reading::unavailable("the node's inventory has not been read yet")
}

/// The NVML GPU a wgpu adapter is: an NVIDIA adapter whose name NVML reports (the first one
/// when several GPUs share the model, which then share their facts too).
pub(crate) fn nvml_twin(adapter: &MeasuredAdapter, gpus: &[GpuInfo]) -> Option<GpuInfo> {
    if adapter.vendor_id != NVIDIA {
        return None;
    }
    gpus.iter().find(|g| g.name == adapter.name || adapter.name.contains(&g.name)).cloned()
}
