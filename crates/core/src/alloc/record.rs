//! The authoritative records: allocations, reservations and the events that explain changes.
//! The calendar, the queue and dispatch all read these; the store persists exactly these.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::request::{AllocationRequest, Qos, Recurrence, ReservationFlags};
use super::time::{rfc3339, rfc3339_opt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AllocState {
    Running,
    Pending,
    /// Ended by preemption (mode `cancel`).
    Preempted,
    /// Stopped by preemption (mode `suspend`); queued to resume.
    Suspended,
    Finished,
    Cancelled,
}

impl AllocState {
    /// Waiting in the queue for resources.
    pub fn is_queued(self) -> bool {
        matches!(self, AllocState::Pending | AllocState::Suspended)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, AllocState::Preempted | AllocState::Finished | AllocState::Cancelled)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Allocation {
    pub id: String,
    pub owner: String,
    pub state: AllocState,
    /// Why a queued allocation waits, or why it ended.
    pub pending_reason: Option<String>,
    pub priority: i32,
    pub priority_class: String,
    pub qos: Qos,
    pub node: Option<String>,
    pub gpus: Vec<String>,
    /// Memory taken on each GPU in `gpus` (the whole GPU unless a share was asked).
    #[ts(type = "number | null")]
    pub gpu_memory_bytes: Option<u64>,
    pub cores: u32,
    #[ts(type = "number")]
    pub memory_bytes: u64,
    #[serde(with = "rfc3339_opt")]
    #[ts(type = "string | null")]
    pub start_time: Option<i64>,
    #[serde(with = "rfc3339_opt")]
    #[ts(type = "string | null")]
    pub end_time: Option<i64>,
    /// The reservation it runs in (its id).
    pub reservation: Option<String>,
    #[serde(with = "rfc3339")]
    #[ts(type = "string")]
    pub submitted_time: i64,
    /// Set while it runs out its grace period after being chosen as a victim.
    pub preemption: Option<PendingPreemption>,
    /// How often it has been preempted.
    pub preemptions: u32,
    /// The request as accepted (id filled in); requeues and shrinks start from it. Shared, so
    /// handing a changed record to the store does not copy it.
    #[ts(as = "AllocationRequest")]
    pub request: Arc<AllocationRequest>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PendingPreemption {
    pub by: String,
    #[serde(with = "rfc3339")]
    #[ts(type = "string")]
    pub at: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Reservation {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub node: String,
    pub gpus: Vec<String>,
    pub cores: u32,
    #[ts(type = "number")]
    pub memory_bytes: u64,
    #[serde(with = "rfc3339")]
    #[ts(type = "string")]
    pub start_time: i64,
    #[serde(with = "rfc3339")]
    #[ts(type = "string")]
    pub end_time: i64,
    pub flags: ReservationFlags,
    pub recurrence: Option<Recurrence>,
    /// Set on an expanded occurrence of a repeating reservation: the series' id.
    #[serde(default)]
    pub occurrence_of: Option<String>,
    /// Set on an expanded occurrence: the start the series gives it (its key for exceptions,
    /// iCalendar's RECURRENCE-ID), which differs from `start_time` when it was moved on its own.
    #[serde(default, with = "rfc3339_opt")]
    #[ts(type = "string | null")]
    pub occurrence: Option<i64>,
    /// Occurrences of a repeating series moved, resized or cancelled on their own.
    #[serde(default)]
    pub exceptions: Vec<OccurrenceException>,
}

/// One occurrence of a repeating reservation changed on its own, keyed by the start the series
/// gives it: moved/resized to `start_time`–`end_time`, or cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OccurrenceException {
    #[serde(with = "rfc3339")]
    #[ts(type = "string")]
    pub occurrence: i64,
    #[serde(with = "rfc3339")]
    #[ts(type = "string")]
    pub start_time: i64,
    #[serde(with = "rfc3339")]
    #[ts(type = "string")]
    pub end_time: i64,
    #[serde(default)]
    pub cancelled: bool,
}

/// An entry of the audit log: preemptions, shrinks, evictions at reservation starts, ...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Event {
    pub id: i64,
    #[serde(with = "rfc3339")]
    #[ts(type = "string")]
    pub time: i64,
    /// `allocated`, `queued`, `preemption`, `shrink`, `requeue`, `ended`, `cancelled`,
    /// `reservation`, `reservation_changed`, `reservation_deleted`, `eviction`.
    pub kind: String,
    /// The allocation or reservation id.
    pub subject: String,
    pub message: String,
    pub details: BTreeMap<String, String>,
}

/// Free capacity of one node, as a refused request's `availability` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodeAvailability {
    pub node: String,
    pub free_gpus: Vec<String>,
    pub free_cores: u32,
    #[ts(type = "number")]
    pub free_memory_bytes: u64,
    /// When the next running allocation with an end frees something here.
    #[serde(with = "rfc3339_opt")]
    #[ts(type = "string | null")]
    pub next_release: Option<i64>,
}

/// Why something was refused, with what is free to help pick something that works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Refusal {
    pub error: String,
    /// The nodes (up to a few dozen) that match the request's constraints.
    pub availability: Vec<NodeAvailability>,
}
