//! Accelerators, in two halves over one vocabulary.
//!
//! What each node has and what it was measured to do: the `spec` of an accelerator no driver
//! reports (registered by config, API or agent), NVML GPUs with their `topology`, the
//! `characterization` of an adapter by the WGSL benchmark, and datasheet `peaks` to compare with.
//!
//! What work does on them: what a task declares (`workload`), what it needs and how long it
//! takes on each device (`needs`, `roofline`, `calibration`, `analyze`), how to make it faster
//! (`advice`), and which device runs which task (`mapping`, explained in `plan`). Device figures
//! come in as [`DeviceProfile`]s: measured by a characterization where one exists
//! (`device::measured_profile`), else the vendor's published peaks (`published`), always marked
//! with their source.
//!
//! Pure: the telemetry crate reads hardware and runs the benchmark, the store keeps
//! registrations and measurements, and this module says what is valid and how to compare.

pub mod advice;
pub mod analyze;
pub mod calibration;
pub mod characterization;
pub mod device;
pub mod fleet;
pub mod mapping;
pub mod needs;
pub mod peaks;
pub mod placement;
pub mod plan;
pub mod precision;
pub mod published;
pub mod roofline;
pub mod spec;
pub mod topology;
pub mod workload;

pub use advice::{Advice, AdviceKind, advise};
pub use analyze::{Analysis, DeviceFit, analyze};
pub use characterization::{Characterization, Kernel, KernelMeasurement, KernelResult, MeasuredAdapter};
pub use device::{DeviceProfile, FigureSource, measured_profile};
pub use fleet::{Excluded, Fleet, fleet};
pub use peaks::{PublishedPeak, published_peak};
pub use placement::{TaskAsk, placement_request};
pub use plan::{DeviceSlot, MapTask, MappingPlan, Placement, plan};
pub use precision::Precision;
pub use published::published_profile;
pub use spec::{AcceleratorKind, AcceleratorSpec, SpecPrecision};
pub use topology::{GpuInfo, GpuLink, PcieLevel};
pub use workload::{Framework, MeasuredProfile, OpClass, OpShare, Workload, WorkloadMode};
