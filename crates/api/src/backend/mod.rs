//! The cluster backend seam: the operations the cluster, queue and calendar views and their REST
//! routes need, behind one trait. Steward's own engine (the scheduler and `stewardd` agents) is
//! the native backend and stays inside `Steward`; another engine — Slurm today — implements
//! [`ClusterBackend`] and, when the config file names it, answers those operations instead.
//! The engine stays the authority: a backend asks it and reports what it says, and what it
//! cannot do is listed in [`BackendInfo`] as unavailable, with the reason.
//!
//! Methods block (they may call a remote service); `Steward` calls them off the async runtime.

pub(crate) mod front;
mod settings;
mod slurm;
mod slurm_events;
mod slurm_views;

use serde::{Deserialize, Serialize};
use steward_core::alloc::{
    Allocation, AllocationRequest, Event, NodeResources, Refusal, Reservation, ReservationRequest,
};
use steward_core::cluster::NodeView;
use ts_rs::TS;

pub(crate) use front::Backend;
pub(crate) use settings::BackendSection;
pub use settings::{BackendSettings, SlurmSettings};
pub use slurm::SlurmBackend;

use crate::ApiError;
use crate::store_handle::StoreHandle;

/// Which engine a control center drives, and what each operation goes through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BackendInfo {
    /// `native` or `slurm`.
    pub kind: String,
    /// In words, e.g. "Slurm 22.05.8 through slurmrestd (OpenAPI v0.0.38) at http://…".
    pub description: String,
    pub operations: Vec<BackendOperation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BackendOperation {
    pub name: String,
    pub available: bool,
    /// How it is done, or why it cannot be.
    pub how: String,
}

/// A reservation move or resize, times in ms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReservationMove {
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub node: Option<String>,
}

/// The external backend the settings name; `None` for Steward's own engine.
/// Its events go to `store`; without one (a check) they are not followed.
pub(crate) fn connect(settings: &BackendSettings, store: Option<StoreHandle>) -> Result<Option<Backend>, ApiError> {
    match settings {
        BackendSettings::Native => Ok(None),
        BackendSettings::Slurm(s) => {
            Ok(Some(std::sync::Arc::new(SlurmBackend::connect(s, crate::clock::now_ms, store)?)))
        }
    }
}

/// Reaches the engine the settings name and says what it found: `stewardctl backend check`.
pub fn check(settings: &BackendSettings) -> Result<BackendInfo, ApiError> {
    match connect(settings, None)? {
        Some(b) => Ok(b.info()),
        None => Ok(front::native_info()),
    }
}

/// An engine other than Steward's own. Every method may block.
pub trait ClusterBackend: Send + Sync {
    fn info(&self) -> BackendInfo;
    fn nodes(&self) -> Result<Vec<NodeView>, ApiError>;
    /// Calendar rows: what each node has.
    fn resources(&self) -> Result<Vec<NodeResources>, ApiError>;
    fn allocations(&self) -> Result<Vec<Allocation>, ApiError>;
    /// Submits; the engine's answer, or its refusal in its own words.
    fn allocate(&self, req: &AllocationRequest, now_ms: i64) -> Result<Result<Allocation, Refusal>, ApiError>;
    fn cancel_allocation(&self, id: &str) -> Result<Allocation, ApiError>;
    fn reservations(&self, from_ms: i64, to_ms: i64) -> Result<Vec<Reservation>, ApiError>;
    /// One reservation by its id (Slurm: its name), asked of the engine directly.
    fn reservation(&self, id: &str) -> Result<Reservation, ApiError>;
    fn reserve(
        &self,
        req: &ReservationRequest,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Result<Reservation, Refusal>, ApiError>;
    fn move_reservation(&self, id: &str, change: &ReservationMove) -> Result<Reservation, ApiError>;
    fn delete_reservation(&self, id: &str) -> Result<(), ApiError>;
    /// Drains (`true`) or resumes a node.
    fn set_draining(&self, node: &str, draining: bool) -> Result<NodeView, ApiError>;
    /// Newest first.
    fn events(&self, kind: Option<&str>, limit: usize) -> Result<Vec<Event>, ApiError>;
}
