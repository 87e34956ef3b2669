//! The application service behind both front doors.
//!
//! The Tauri shell and the axum server are thin adapters over [`Steward`]: every operation the UI
//! can ask for is a method here, so the two front doors cannot drift apart. `Steward`
//! (`service.rs`) builds the subsystems below, each with only the handles it uses (the store,
//! `store_handle.rs`; the live feed, `live_feed.rs`; history writing, `history_writer.rs`; the
//! stop signal; another subsystem's handle), starts their loops, and delegates its public
//! operations to them (`service/*_api.rs`). No subsystem imports the service back
//! (`scripts/check-structure`).
//!
//! What runs where:
//! - `sampling_loop.rs`: a plain thread samples this node, publishes each snapshot live,
//!   batch-writes history every 5 s (remote nodes' snapshots included, `cluster/history.rs`) and
//!   runs rollups and retention every minute. The sampling mode follows the audience: idle with
//!   no live subscriber, hidden when the UI says it is not visible, active otherwise.
//! - `accelerators/`: the accelerator registry, characterization (the WGSL benchmark in a
//!   child) and placing pending work onto an accelerator.
//! - `allocation/`: the scheduler behind a lock; every operation commits before it answers.
//! - `cluster/`: the cluster manager, on its own small runtime.
//! - `dispatch/`: the distributed executor, on its own small runtime.
//! - Profiling: `profiler.rs` keeps the rules' window and tracker, fed by the sampling loop (module
//!   usage joins history, events go to the store); `profile.rs` (`Profiling`) answers profiles
//!   (forecasts fitted on request from stored history; `profile/node_usage.rs` summarises every
//!   node's history for the consolidation check); `deep_profile.rs` runs one module's deep
//!   profile on a thread of its own until its end time.
//! - `degradation/`: constraints judged every second and the degradation engine run every check
//!   interval on a thread of its own, directives sent through `modules/`.
//! - `modules/`: the registry of modules that registered through the module API (a thread
//!   judges silence; agents' modules are followed on the cluster runtime).
//! - This crate reads the clock; what it calls below (core, the sampler's policy, the store) takes
//!   `now_ms`.

mod accelerators;
mod allocation;
pub mod backend;
mod clock;
mod cluster;
mod config;
mod deep_profile;
mod degradation;
mod dispatch;
mod energy;
mod envelope;
mod error;
mod error_body;
mod history_writer;
mod live_feed;
mod logging;
mod metrics;
mod modules;
mod power;
mod profile;
mod profiler;
mod request_body;
mod sampling_loop;
mod service;
mod status;
mod stop_signal;
mod store_handle;

pub use accelerators::{
    AcceleratorList, AcceleratorOperation, AcceleratorsResponse, AcceleratorsResult, AdviseResult, AnalyzeResult,
    Characterized, HealthCheck, MapResult, MapTaskRequest, NodeAccelerators, PlaceAllocation, PlacedTask, Registered,
    RegisteredAccelerator, RegistrationSource,
};
pub use allocation::{AllocError, AllocateResponse, AllocateResult, AllocationType, GrantedResources};
pub use cluster::{AddNode, NodeChange, ProbeRequest, ProbeResult};
pub use config::{AdapterProbe, ApiConfig};
pub use degradation::{
    BudgetView, DegradationOperation, DegradationResponse, DegradationResult, DegradationSettings, DegradationStatus,
    FeatureState, ModuleDegradation, OverrideRequest,
};
pub use dispatch::{
    Assignment, DispatchNode, DispatchSettings, DistributeResult, DistributedOperation, DistributedResponse,
    DistributedResult, Liveness, MonitorResult, NoNodes, NodeSource, OutputChunk, OutputSource, PlannedPartition,
    StaticNodes, Unready, no_node_accepts_work,
};
pub use energy::{DeviceEfficiency, EnergyMonitor, EnergySettings, NodePower, SourceTotal, Spend};
pub use error::ApiError;
pub use error_body::{ErrorBody, ErrorKind};
pub use logging::init_logging;
pub use power::{
    ApplyRequest, ChangesResult, EnergyOperation, EnergyResponse, EnergyResult, JournalResult, PlanRequest,
    RollbackRequest,
};
pub use request_body::{MAX_STRING_BYTES, from_value, parse_body, parse_json};
pub use service::Steward;
pub use status::{SamplingMode, SamplingState, Status};
pub use steward_agent::AgentClient;
pub use steward_agent::module_api::socket::{ModuleSocket, bind as bind_module_socket};
pub use steward_agent::module_api::{ModuleEndpoint, ModuleHub};
pub use steward_core::cluster::{NodeHealth, NodeView};
pub use steward_core::module_status::{DirectiveRecord, ModuleState, ModuleStatus};
pub use steward_core::profile::deep::{DeepProfile, DeepProfileRequest};
pub use steward_core::profile::{ModuleSpec, ProfileEvent, ProfileRequest, ProfileResponse, Thresholds};
pub use steward_core::registration::{Directive, DirectiveOrder};
pub use steward_core::{HistoryQuery, Inventory, SeriesHistory, Snapshot};
pub use steward_prometheus::MetricsFormat;
pub use steward_telemetry::adapter_probe::serve_adapter_probe_if_asked;
