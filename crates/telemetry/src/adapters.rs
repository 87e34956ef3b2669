//! Every accelerator adapter wgpu can see (Vulkan, GL, ...), software rasterizers included and
//! labelled. Enumeration loads drivers and can take a while: it belongs to the inventory, never
//! to the per-second path.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use steward_core::{Adapter, Reading};

/// Names of CPU rasterizers that some drivers report as a GPU type.
const SOFTWARE_NAMES: [&str; 4] = ["llvmpipe", "lavapipe", "swiftshader", "softpipe"];

pub fn is_software(device_type: wgpu::DeviceType, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    device_type == wgpu::DeviceType::Cpu || SOFTWARE_NAMES.iter().any(|n| lower.contains(n))
}

pub(crate) fn device_type_str(t: wgpu::DeviceType) -> &'static str {
    match t {
        wgpu::DeviceType::DiscreteGpu => "discrete_gpu",
        wgpu::DeviceType::IntegratedGpu => "integrated_gpu",
        wgpu::DeviceType::VirtualGpu => "virtual_gpu",
        wgpu::DeviceType::Cpu => "cpu",
        wgpu::DeviceType::Other => "other",
    }
}

pub(crate) fn backend_str(b: wgpu::Backend) -> String {
    match b {
        wgpu::Backend::Vulkan => "vulkan".into(),
        wgpu::Backend::Gl => "gl".into(),
        wgpu::Backend::Metal => "metal".into(),
        wgpu::Backend::Dx12 => "dx12".into(),
        wgpu::Backend::BrowserWebGpu => "webgpu".into(),
        other => format!("{other:?}").to_ascii_lowercase(),
    }
}

/// The limits a scheduler cares about when placing work on an adapter.
fn limits_map(l: &wgpu::Limits) -> BTreeMap<String, u64> {
    [
        ("max_buffer_size", l.max_buffer_size),
        ("max_storage_buffer_binding_size", l.max_storage_buffer_binding_size),
        ("max_compute_workgroup_storage_size", l.max_compute_workgroup_storage_size as u64),
        ("max_compute_invocations_per_workgroup", l.max_compute_invocations_per_workgroup as u64),
        ("max_compute_workgroups_per_dimension", l.max_compute_workgroups_per_dimension as u64),
        ("max_texture_dimension_2d", l.max_texture_dimension_2d as u64),
        ("max_bind_groups", l.max_bind_groups as u64),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

struct ThreadWaker(std::thread::Thread);
impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Minimal executor: wgpu's native enumeration future is ready at once or wakes this thread.
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Enumerate adapters on every backend wgpu was built with.
pub fn enumerate_adapters() -> Reading<Vec<Adapter>> {
    let desc = wgpu::InstanceDescriptor {
        backends: wgpu::Backends::all(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    };
    // Driver loaders can panic on broken installs; an inventory must survive that.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let instance = wgpu::Instance::new(desc);
        block_on(instance.enumerate_adapters(wgpu::Backends::all()))
            .into_iter()
            .map(|a| {
                let info = a.get_info();
                Adapter {
                    is_software: is_software(info.device_type, &info.name),
                    backend: backend_str(info.backend),
                    device_type: device_type_str(info.device_type).into(),
                    vendor_id: info.vendor,
                    device_id: info.device,
                    driver: info.driver,
                    driver_info: info.driver_info,
                    limits: limits_map(&a.limits()),
                    name: info.name,
                }
            })
            .collect::<Vec<_>>()
    }));
    match result {
        Ok(v) if v.is_empty() => {
            Reading::unavailable("wgpu found no adapters (no Vulkan or GL driver usable without a display)")
        }
        Ok(v) => Reading::from(v),
        Err(_) => Reading::unavailable("wgpu adapter enumeration panicked (broken graphics driver install)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_detection() {
        assert!(is_software(wgpu::DeviceType::Cpu, "whatever"));
        assert!(is_software(wgpu::DeviceType::Other, "llvmpipe (LLVM 15.0.6, 256 bits)"));
        assert!(is_software(wgpu::DeviceType::IntegratedGpu, "Google SwiftShader"));
        assert!(!is_software(wgpu::DeviceType::DiscreteGpu, "NVIDIA GeForce RTX 4090"));
    }

    #[test]
    fn enumerates_real_adapters_or_says_why_not() {
        match enumerate_adapters() {
            Reading::Available { value } => {
                assert!(!value.is_empty());
                for a in &value {
                    eprintln!("adapter: {a:?}");
                    let lower = a.name.to_lowercase();
                    if lower.contains("llvmpipe") || lower.contains("lavapipe") {
                        assert!(a.is_software, "{a:?}");
                    }
                    assert!(["vulkan", "gl", "metal", "dx12", "webgpu", "noop"].contains(&a.backend.as_str()), "{a:?}");
                    assert!(a.limits["max_buffer_size"] > 0);
                }
            }
            Reading::Unavailable { reason } => assert!(!reason.is_empty()),
        }
    }
}
