//! The WGSL benchmark for real on Mesa's lavapipe (mesa-vulkan-drivers, installed by
//! scripts/lib.sh): every kernel runs, and each figure stands only because its result matched
//! the CPU reference.

use steward_core::accel::Kernel;
use steward_telemetry::accel_bench::benchmark_adapters;

#[test]
fn lavapipe_is_characterized_with_checked_results() {
    let benches = benchmark_adapters(Some("llvmpipe"));
    let benches = benches.value().unwrap_or_else(|| panic!("lavapipe must be installed: {benches:?}"));
    let lavapipe = benches.iter().find(|b| b.adapter.backend == "vulkan").expect("lavapipe on Vulkan");
    assert!(lavapipe.adapter.is_software, "{:?}", lavapipe.adapter);
    assert!(!lavapipe.adapter.driver.is_empty(), "the driver is recorded: {:?}", lavapipe.adapter);
    for k in &lavapipe.kernels {
        eprintln!("{:?}: {:?}", k.kernel, k.result);
    }
    let measured = |kernel: Kernel| {
        let k = lavapipe.kernels.iter().find(|k| k.kernel == kernel).unwrap();
        k.result.value().cloned().unwrap_or_else(|| panic!("{kernel:?}: {:?}", k.result))
    };
    let f32_mm = measured(Kernel::MatmulF32);
    assert!(f32_mm.value > 0.0 && f32_mm.value.is_finite(), "{f32_mm:?}");
    assert!(f32_mm.max_error <= 1e-5 && f32_mm.checked_elements > 200, "{f32_mm:?}");
    assert_eq!(f32_mm.unit, "GFLOP/s");
    let bw = measured(Kernel::Bandwidth);
    assert!(bw.value > 0.0 && bw.max_error == 0.0, "{bw:?}");
    let lat = measured(Kernel::Latency);
    assert!(lat.value > 0.0 && lat.value < 1e6, "{lat:?}");
    // f16 is measured where the driver offers it, else said why.
    let f16 = &lavapipe.kernels.iter().find(|k| k.kernel == Kernel::MatmulF16).unwrap().result;
    if let Some(reason) = f16.reason() {
        assert!(reason.contains("SHADER_F16"), "{reason}");
    } else {
        assert!(f16.value().unwrap().max_error <= 2e-2);
    }
}
