//! The application service behind both front doors.
//!
//! The Tauri shell and the axum server are thin adapters over [`Steward`]: every operation the UI
//! can ask for is a method here, so the two front doors cannot drift apart. `Steward` owns the
//! store and the live state and runs the background loops (sampling, rollups and retention).

mod allocation;
mod cluster;
mod config;
mod deep_profile;
mod dispatch;
mod error;
mod error_body;
mod logging;
mod profile;
mod profiler;
mod request_body;
mod sampling_loop;
mod service;
mod status;

pub use allocation::{AllocError, AllocateResponse, AllocateResult, AllocationType, GrantedResources};
pub use cluster::{AddNode, NodeChange, ProbeRequest, ProbeResult};
pub use config::{AdapterProbe, ApiConfig};
pub use dispatch::{
    Assignment, DispatchNode, DispatchSettings, DistributeResult, DistributedOperation, DistributedResponse,
    DistributedResult, Liveness, MonitorResult, NoNodes, NodeSource, PlannedPartition, StaticNodes,
};
pub use error::ApiError;
pub use error_body::{ErrorBody, ErrorKind};
pub use logging::init_logging;
pub use request_body::{MAX_STRING_BYTES, from_value, parse_body, parse_json};
pub use service::Steward;
pub use status::{SamplingMode, SamplingState, Status};
pub use steward_agent::AgentClient;
pub use steward_core::cluster::{NodeState, NodeView};
pub use steward_core::profile::deep::{DeepProfile, DeepProfileRequest};
pub use steward_core::profile::{ModuleSpec, ProfileEvent, ProfileRequest, ProfileResponse, Thresholds};
pub use steward_core::{HistoryQuery, Inventory, SeriesHistory, Snapshot};
pub use steward_telemetry::adapter_probe::serve_probe_if_asked as serve_adapter_probe_if_asked;
