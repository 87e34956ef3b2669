//! Allocation and reservations (`crate::allocation`), as the front doors call them.

use serde_json::Value;
use steward_core::alloc::{Allocation, Event, NodeResources, Reservation, ReservationChange};

use super::Steward;
use crate::backend::front;
use crate::clock::now_ms;
use crate::{AllocError, AllocateResponse};

impl Steward {
    /// The allocatable nodes (this machine, then remote nodes as they joined): rows of the
    /// reservation calendar.
    pub fn resources(&self) -> Vec<NodeResources> {
        self.shared.allocations.resources()
    }

    /// `POST /resources/allocate`: an allocation or a reservation, idempotent by request id
    /// (the same id with the same body gets the first answer; with another body, a conflict).
    pub async fn allocate(&self, body: Value) -> Result<AllocateResponse, AllocError> {
        if let Some(b) = &self.backend {
            return front::allocate(b, body, now_ms()).await;
        }
        self.shared.allocations.allocate(body).await
    }

    /// Reservations overlapping `[from, to)` (default: the past day and the next two weeks),
    /// repeating ones expanded into occurrences.
    pub async fn reservations(&self, from: Option<String>, to: Option<String>) -> Result<Vec<Reservation>, AllocError> {
        if let Some(b) = &self.backend {
            return front::reservations(b, from, to).await;
        }
        self.shared.allocations.reservations(from, to).await
    }

    /// One reservation as stored (by id or occurrence id): a repeating one as its series, with
    /// its changed occurrences.
    pub async fn reservation(&self, id: String) -> Result<Reservation, AllocError> {
        if let Some(b) = &self.backend {
            return front::reservation(b, id).await;
        }
        self.shared.allocations.reservation(id).await
    }

    /// Moves or resizes a reservation under the same rules as creating one: the whole series,
    /// or only the occurrence the series starts at `occurrence` (RFC 3339).
    pub async fn update_reservation(
        &self,
        id: String,
        occurrence: Option<String>,
        change: ReservationChange,
    ) -> Result<Reservation, AllocError> {
        if let Some(b) = &self.backend {
            return front::update_reservation(b, id, occurrence, change).await;
        }
        self.shared.allocations.update_reservation(id, occurrence, change).await
    }

    /// Deletes a reservation, or only the occurrence the series starts at `occurrence`.
    pub async fn delete_reservation(&self, id: String, occurrence: Option<String>) -> Result<(), AllocError> {
        if let Some(b) = &self.backend {
            return front::delete_reservation(b, id, occurrence).await;
        }
        self.shared.allocations.delete_reservation(id, occurrence).await
    }

    /// Every reservation (series, not occurrences) as an iCalendar file.
    pub async fn reservations_ics(&self) -> Result<String, AllocError> {
        self.shared.allocations.reservations_ics().await
    }

    /// Writes `reservations_ics` to `steward-reservations.ics` in `dir` (the desktop app's
    /// Downloads folder: its web view has no download handling) and answers the path written.
    pub async fn save_reservations_ics(&self, dir: std::path::PathBuf) -> Result<std::path::PathBuf, AllocError> {
        self.shared.allocations.save_reservations_ics(dir).await
    }

    /// Every allocation the scheduler knows (running, queued and ended).
    pub async fn allocations(&self) -> Result<Vec<Allocation>, AllocError> {
        if let Some(b) = &self.backend {
            return front::allocations(b).await;
        }
        self.shared.allocations.allocations().await
    }

    pub async fn cancel_allocation(&self, id: String) -> Result<Allocation, AllocError> {
        if let Some(b) = &self.backend {
            return front::cancel_allocation(b, id).await;
        }
        self.shared.allocations.cancel_allocation(id).await
    }

    /// The event log, newest first (`kind` e.g. `preemption`).
    pub async fn events(&self, kind: Option<String>, limit: Option<u32>) -> Result<Vec<Event>, AllocError> {
        if let Some(b) = &self.backend {
            return front::events(b, kind, limit.unwrap_or(100).min(10_000) as usize).await;
        }
        self.shared.allocations.events(kind, limit).await
    }
}
