//! Energy (`POST /resources/energy`): the `monitor` operation answers every node's power by
//! source with provenance, who draws it, what was used today and this week (with cost and
//! carbon), and how efficiently each device works.
//!
//! The measuring is done where the snapshot is taken (`steward_telemetry::energy`, on every
//! node); history keeps `energy.<provenance>.<source>.w|cum_j|j` (`.j` derived at ingest, see
//! `steward_core::energy::intervals`). This module only reads.

mod history;
mod monitor;
mod report;
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

impl Steward {
    /// The exported report (SVG): every node's power by source over the last hour and today's
    /// energy by node and source, labelled with provenance.
    pub fn energy_report(&self) -> Result<String, ApiError> {
        let now = now_ms();
        let monitor = self.energy_monitor(None, now)?;
        let mut consumers: Vec<(String, f64)> = monitor
            .totals
            .iter()
            .filter(|t| t.today_j > 0.0)
            .map(|t| (format!("{} / {} ({})", t.node, t.source, t.provenance), t.today_j))
            .collect();
        consumers.sort_by(|a, b| b.1.total_cmp(&a.1));
        let store = self.shared.lock_store()?;
        let power = history::power_lines(&store, &self.node_prefixes(now), now - REPORT_WINDOW_MS, now)?;
        let title = format!("Steward energy report, {}", steward_core::alloc::time::format_rfc3339(now));
        report::render_svg(&title, &power, &consumers).map_err(ApiError::Internal)
    }
}

/// The power chart of the report covers the last hour.
const REPORT_WINDOW_MS: i64 = 3_600_000;

impl Steward {
    /// Writes the report to `dir/steward-energy-report.svg` (the desktop app's Downloads: its
    /// webview drops blob downloads) and answers the path.
    pub fn save_energy_report(&self, dir: &std::path::Path) -> Result<std::path::PathBuf, ApiError> {
        let path = dir.join("steward-energy-report.svg");
        std::fs::write(&path, self.energy_report()?)
            .map_err(|e| ApiError::Internal(format!("cannot write {}: {e}", path.display())))?;
        Ok(path)
    }
}
