//! Accelerators as work goes to them: what a task declares (`workload`), what it needs and how
//! long it takes on each device (`needs`, `roofline`, `calibration`, `analyze`), how to make it
//! faster (`advice`), and which device runs which task (`mapping`, explained in `plan`).
//!
//! Device figures come in as [`DeviceProfile`]s: measured by a characterization run where one
//! exists, else the vendor's published peaks (`published`), always marked with their source.

pub mod advice;
pub mod analyze;
pub mod calibration;
pub mod device;
pub mod fleet;
pub mod mapping;
pub mod needs;
pub mod placement;
pub mod plan;
pub mod precision;
pub mod published;
pub mod roofline;
pub mod workload;

pub use advice::{Advice, AdviceKind, advise};
pub use analyze::{Analysis, DeviceFit, analyze};
pub use device::{DeviceProfile, FigureSource};
pub use fleet::{Excluded, Fleet, fleet};
pub use placement::{TaskAsk, placement_request};
pub use plan::{DeviceSlot, MapTask, MappingPlan, Placement, plan};
pub use precision::Precision;
pub use published::published_profile;
pub use workload::{Framework, MeasuredProfile, OpClass, OpShare, Workload, WorkloadMode};
