//! Energy (`POST /resources/energy`): the `monitor` operation answers every node's power by
//! source with provenance, who draws it, what was used today and this week (with cost and
//! carbon), and how efficiently each device works.
//!
//! The measuring is done where the snapshot is taken (`steward_telemetry::energy`, on every
//! node); history keeps `energy.<provenance>.<source>.w|cum_j|j` (`.j` derived at ingest, see
//! `steward_core::energy::intervals`). This module only reads.

mod history;
mod monitor;
mod request;
mod settings;

pub use monitor::{DeviceEfficiency, EnergyMonitor, NodePower, SourceTotal, Spend};
pub use request::{EnergyOperation, EnergyRequest, EnergyResponse, EnergyResult};
pub use settings::EnergySettings;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::now_ms;
use crate::{ApiError, Steward};

static REQUESTS: AtomicU64 = AtomicU64::new(0);

impl Steward {
    /// One energy request in the envelope: the operation's answer with `request_id` and `timestamp`.
    pub fn energy(&self, req: EnergyRequest) -> Result<EnergyResponse, ApiError> {
        let now = now_ms();
        let result = match req.operation {
            EnergyOperation::Monitor => EnergyResult::Monitor(self.energy_monitor(req.node.as_deref(), now)?),
        };
        let request_id =
            req.id.unwrap_or_else(|| format!("energy-{now:x}-{}", REQUESTS.fetch_add(1, Ordering::Relaxed)));
        Ok(EnergyResponse { request_id, timestamp: now, operation: req.operation, result })
    }
}
