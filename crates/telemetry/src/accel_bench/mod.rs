//! Characterization: a compute benchmark in WGSL run on every wgpu adapter — matrix multiply
//! (f32, and f16 where the adapter has SHADER_F16), memory bandwidth, dispatch latency — each
//! result checked against a CPU reference before its figure is believed.
//!
//! Sizes grow until one run takes long enough to time (a software rasterizer stops at small
//! ones within seconds; a GPU goes on to the largest), then the best of a few runs counts.
//! Like enumeration it loads drivers, so it runs in a throw-away child ([`child`]).

pub mod child;
mod gpu;
mod kernels;
mod reference;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use steward_core::Reading;
use steward_core::accel::{Kernel, KernelMeasurement, KernelResult, MeasuredAdapter};

use crate::adapters::{backend_str, block_on, device_type_str, is_software};
use gpu::Gpu;

/// What one adapter measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterBench {
    pub adapter: MeasuredAdapter,
    pub kernels: Vec<KernelResult>,
}

/// A run this long is long enough to time.
const LONG_ENOUGH: Duration = Duration::from_millis(25);
/// Timed runs at the final size (the best counts).
const RUNS: u32 = 5;
const MATMUL_SIDES: [u32; 6] = [64, 128, 256, 512, 1024, 2048];
const STREAM_MIB: [u64; 5] = [1, 4, 16, 64, 256];
const LATENCY_RUNS: u32 = 21;
/// Elements compared with the CPU reference per result.
const CHECKED: usize = 256;
const F32_TOLERANCE: f64 = 1e-5;
/// Half precision accumulates in 11 bits: about 1e-3 per addition, relative.
const F16_TOLERANCE: f64 = 2e-2;

/// Benchmarks every adapter whose name contains `only` (all when `None`). GL adapters are
/// skipped where another backend sees the device (the same hardware twice).
pub fn benchmark_adapters(only: Option<&str>) -> Reading<Vec<AdapterBench>> {
    let result = std::panic::catch_unwind(|| {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::all(),
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapters = block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let has_native = adapters.iter().any(|a| a.get_info().backend != wgpu::Backend::Gl);
        adapters
            .iter()
            .filter(|a| !(has_native && a.get_info().backend == wgpu::Backend::Gl))
            .filter(|a| only.is_none_or(|o| a.get_info().name.contains(o)))
            .map(bench_adapter)
            .collect::<Vec<_>>()
    });
    match result {
        Ok(v) if v.is_empty() => Reading::unavailable(match only {
            Some(o) => format!("no compute adapter named like {o:?}"),
            None => "wgpu found no compute adapter (no Vulkan, Metal, DX12 or GL driver)".into(),
        }),
        Ok(v) => Reading::from(v),
        Err(_) => Reading::unavailable("the benchmark panicked inside the graphics driver"),
    }
}

fn measured_adapter(a: &wgpu::Adapter) -> MeasuredAdapter {
    let info = a.get_info();
    MeasuredAdapter {
        is_software: is_software(info.device_type, &info.name),
        backend: backend_str(info.backend),
        device_type: device_type_str(info.device_type).into(),
        vendor_id: info.vendor,
        device_id: info.device,
        driver: info.driver,
        driver_info: info.driver_info,
        name: info.name,
    }
}

fn bench_adapter(a: &wgpu::Adapter) -> AdapterBench {
    let adapter = measured_adapter(a);
    let kernels = match Gpu::open(a) {
        Ok(gpu) => vec![
            result(Kernel::MatmulF32, matmul(&gpu, false)),
            result(
                Kernel::MatmulF16,
                if gpu.has_f16() { matmul(&gpu, true) } else { Err("the adapter lacks SHADER_F16".into()) },
            ),
            result(Kernel::Bandwidth, stream(&gpu)),
            result(Kernel::Latency, latency(&gpu)),
        ],
        Err(e) => Kernel::ALL.into_iter().map(|k| result(k, Err(e.clone()))).collect(),
    };
    AdapterBench { adapter, kernels }
}

fn result(kernel: Kernel, r: Result<KernelMeasurement, String>) -> KernelResult {
    KernelResult { kernel, result: r.into() }
}

fn measurement(
    kernel: Kernel,
    value: f64,
    problem: String,
    runs: u32,
    max_error: f64,
    checked: usize,
) -> KernelMeasurement {
    KernelMeasurement { value, unit: kernel.unit().into(), problem, runs, max_error, checked_elements: checked as u32 }
}

/// A result within tolerance, or why the figure is withheld.
fn checked(max_error: f64, tolerance: f64) -> Result<(), String> {
    if max_error <= tolerance {
        Ok(())
    } else {
        Err(format!(
            "the result differs from the CPU reference by {max_error:.2e} (relative; allowed {tolerance:.0e}): \
             wrong results, so no figure"
        ))
    }
}

/// Grows the problem along `sizes` (those `fits`) until one run is long enough, then keeps the
/// best of [`RUNS`]: `(size, best time)`.
fn time_growing<S: Copy>(
    sizes: &[S],
    fits: impl Fn(S) -> bool,
    mut run: impl FnMut(S) -> Result<Duration, String>,
) -> Result<(S, Duration), String> {
    let mut chosen = None;
    for &size in sizes.iter().filter(|s| fits(**s)) {
        run(size)?; // warm-up: pipeline compilation and first-touch of memory
        let t = run(size)?;
        chosen = Some(size);
        if t >= LONG_ENOUGH {
            break;
        }
    }
    let size = chosen.ok_or("the adapter's limits allow no problem size")?;
    let best = (0..RUNS).map(|_| run(size)).collect::<Result<Vec<_>, _>>()?.into_iter().min().unwrap_or_default();
    Ok((size, best))
}

fn matmul(gpu: &Gpu, f16: bool) -> Result<KernelMeasurement, String> {
    let limit = gpu.limits().max_storage_buffer_binding_size;
    let pipeline = gpu.pipeline(&kernels::matmul(f16));
    let encode = |v: &[i8]| if f16 { reference::as_f16_bytes(v) } else { reference::as_f32_bytes(v) };
    let mut last = None;
    let (n, best) = time_growing(
        &MATMUL_SIDES,
        |n| (n as u64 * n as u64 * 4) <= limit,
        |n| {
            let len = (n * n) as usize;
            let (a, b) = (reference::input(1, len), reference::input(2, len));
            let (ga, gb) = (gpu.storage(&encode(&a)), gpu.storage(&encode(&b)));
            let c = gpu.output(len as u64 * 4);
            let dims = gpu.uniform(&[n.to_le_bytes(), [0; 4], [0; 4], [0; 4]].concat());
            let bind = gpu.bind(&pipeline, &[&ga, &gb, &c, &dims]);
            let t = gpu.timed(&pipeline, &bind, (n / kernels::TILE, n / kernels::TILE), 1)?;
            last = Some((n, a, b, c));
            Ok(t)
        },
    )?;
    let (n_last, a, b, c) = last.ok_or("no run")?;
    debug_assert_eq!(n_last, n);
    let out = reference::f32s(&gpu.read(&c)?);
    let positions = reference::sample_positions(out.len(), CHECKED);
    let error = reference::matmul_error(&a, &b, &out, n as usize, &positions);
    checked(error, if f16 { F16_TOLERANCE } else { F32_TOLERANCE })?;
    let flop = 2.0 * (n as f64).powi(3);
    let kernel = if f16 { Kernel::MatmulF16 } else { Kernel::MatmulF32 };
    Ok(measurement(kernel, flop / best.as_secs_f64() / 1e9, format!("{n}×{n}×{n}"), RUNS, error, positions.len()))
}

fn stream(gpu: &Gpu) -> Result<KernelMeasurement, String> {
    let limits = gpu.limits();
    let max = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
    let pipeline = gpu.pipeline(kernels::STREAM);
    let mut last = None;
    let (mib, best) = time_growing(
        &STREAM_MIB,
        |mib| (mib << 20) <= max,
        |mib| {
            let floats = (mib << 20) as usize / 4;
            let src: Vec<f32> = (0..floats).map(|i| (i % 1024) as f32).collect();
            let bytes: Vec<u8> = src.iter().flat_map(|v| v.to_le_bytes()).collect();
            let (gsrc, gdst) = (gpu.storage(&bytes), gpu.output(mib << 20));
            let bind = gpu.bind(&pipeline, &[&gsrc, &gdst]);
            let t = gpu.timed(&pipeline, &bind, stream_groups(floats as u32 / 4), 1)?;
            last = Some((src, gdst));
            Ok(t)
        },
    )?;
    let (src, dst) = last.ok_or("no run")?;
    let out = reference::f32s(&gpu.read(&dst)?);
    let positions = reference::sample_positions(out.len(), CHECKED);
    let error = reference::stream_error(&src, &out, &positions);
    checked(error, 0.0)?;
    // Every byte is read once and written once.
    let bytes = 2.0 * (mib << 20) as f64;
    Ok(measurement(
        Kernel::Bandwidth,
        bytes / best.as_secs_f64() / 1e9,
        format!("{mib} MiB"),
        RUNS,
        error,
        positions.len(),
    ))
}

/// Workgroups for `vec4s` elements, as `(x, y)` with x within the per-dimension limit.
fn stream_groups(vec4s: u32) -> (u32, u32) {
    let groups = vec4s.div_ceil(kernels::STREAM_GROUP);
    let x = groups.min(32_768);
    (x, groups.div_ceil(x))
}

fn latency(gpu: &Gpu) -> Result<KernelMeasurement, String> {
    let pipeline = gpu.pipeline(kernels::LATENCY);
    let count = gpu.storage(&[0; 4]);
    let bind = gpu.bind(&pipeline, &[&count]);
    let mut times = Vec::new();
    for _ in 0..LATENCY_RUNS + 1 {
        times.push(gpu.timed(&pipeline, &bind, (1, 1), 1)?);
    }
    times.remove(0); // the first pays for compilation
    times.sort();
    let ran = u32::from_le_bytes(gpu.read(&count)?[..4].try_into().map_err(|_| "short read-back")?);
    let expected = LATENCY_RUNS + 1;
    if ran != expected {
        return Err(format!("{ran} of {expected} dispatches ran: wrong results, so no figure"));
    }
    let median = times[times.len() / 2];
    Ok(measurement(Kernel::Latency, median.as_secs_f64() * 1e6, "1 workgroup".into(), LATENCY_RUNS, 0.0, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_dispatch_covers_every_element_within_limits() {
        for vec4s in [1u32, 256, 257, 16 << 20] {
            let (x, y) = stream_groups(vec4s);
            assert!(x <= 65_535 && y <= 65_535);
            assert!(x * y * kernels::STREAM_GROUP >= vec4s);
        }
    }
}
