//! Allocation, reservations and QoS: the resource model, the requests, the authoritative
//! records, and the engines that decide (scheduler with multi-factor priority, EASY backfill and
//! quotas; shrinking and preemption; Slurm-like reservations with DST-proof repeats).

mod engine;
mod fair_share;
mod from_telemetry;
mod gpu_slots;
mod hold;
pub mod ics;
mod mig;
mod model;
mod node_lifecycle;
mod nodes;
mod power_budget;
mod preempt;
mod quota;
mod record;
pub mod recurrence;
mod request;
mod reservations;
mod reserved_wait;
mod schedule;
pub mod time;
mod victims;

pub use engine::{Changes, Scheduler, SchedulerConfig, Shadow, Stats};
pub use from_telemetry::node_from_telemetry;
pub use gpu_slots::{GpuSlot, SlotAvailability};
pub use mig::{instance_id, without_instance_slots};
pub use model::{Accelerator, GpuResource, MigInstance, NodeResources};
pub use power_budget::PowerBudget;
pub use record::{
    AllocState, Allocation, Event, NodeAvailability, OccurrenceException, PendingPreemption, Refusal, Reservation,
};
pub use request::{
    AllocationRequest, Constraints, FieldError, Frequency, PreemptionMode, PreemptionPolicy, Priority, PriorityClass,
    Qos, Recurrence, ReservationChange, ReservationFlags, ReservationRequest, ResourceAmount, ResourceAsk, Window,
};
pub use reservations::ReservationError;
