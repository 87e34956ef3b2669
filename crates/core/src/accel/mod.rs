//! Accelerators: what each node has (NVML GPUs with their topology, wgpu adapters, and
//! accelerators registered by config or API), and what each was measured to do.
//!
//! Pure: the telemetry crate reads hardware and runs the benchmark, the store keeps
//! registrations and measurements, and this module says what is valid and how to compare.

pub mod characterization;
pub mod peaks;
pub mod spec;
pub mod topology;

pub use characterization::{Characterization, Kernel, KernelResult, MeasuredAdapter, Measurement};
pub use peaks::{PublishedPeak, published_peak};
pub use spec::{AcceleratorKind, AcceleratorSpec, Precision};
pub use topology::{GpuInfo, GpuLink, PcieLevel};
