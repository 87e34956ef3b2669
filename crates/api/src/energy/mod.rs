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
mod settings;

pub use monitor::{DeviceEfficiency, EnergyMonitor, NodePower, SourceTotal, Spend};
pub use settings::EnergySettings;

use std::sync::Arc;

use crate::ApiError;
use crate::clock::now_ms;
use crate::cluster::Cluster;
use crate::live_feed::LiveFeed;
use crate::profile::Profiling;
use crate::store_handle::StoreHandle;

/// The energy monitor: reads live snapshots (this machine's from the live feed, the nodes' from
/// the cluster), module specs from profiling, and energy history from the store.
pub(crate) struct EnergyMeter {
    pub(crate) store: StoreHandle,
    pub(crate) cluster: Arc<Cluster>,
    pub(crate) live: Arc<LiveFeed>,
    pub(crate) profiling: Arc<Profiling>,
    pub(crate) settings: EnergySettings,
}

impl EnergyMeter {
    /// The `monitor` operation of `POST /resources/energy`, off the async threads (it reads
    /// the store).
    pub(crate) async fn monitor(self: &Arc<Self>, only: Option<String>) -> Result<EnergyMonitor, ApiError> {
        let meter = self.clone();
        tokio::task::spawn_blocking(move || meter.energy_monitor(only.as_deref(), now_ms()))
            .await
            .map_err(|e| ApiError::Internal(format!("energy monitor failed: {e}")))?
    }

    /// The exported report (SVG): every node's power by source over the last hour and today's
    /// energy by node and source, labelled with provenance.
    pub(crate) fn energy_report(&self) -> Result<String, ApiError> {
        let now = now_ms();
        let monitor = self.energy_monitor(None, now)?;
        let mut consumers: Vec<(String, f64)> = monitor
            .totals
            .iter()
            .filter(|t| t.today_j > 0.0)
            .map(|t| (format!("{} / {} ({})", t.node, t.source, t.provenance), t.today_j))
            .collect();
        consumers.sort_by(|a, b| b.1.total_cmp(&a.1));
        let store = self.store.lock()?;
        let power = history::power_lines(&store, &self.node_prefixes(now), now - REPORT_WINDOW_MS, now)?;
        let title = format!("Steward energy report, {}", steward_core::alloc::time::format_rfc3339(now));
        report::render_svg(&title, &power, &consumers).map_err(ApiError::Internal)
    }

    /// Writes the report to `dir/steward-energy-report.svg` (the desktop app's Downloads: its
    /// webview drops blob downloads) and answers the path.
    pub(crate) fn save_energy_report(&self, dir: &std::path::Path) -> Result<std::path::PathBuf, ApiError> {
        let path = dir.join("steward-energy-report.svg");
        std::fs::write(&path, self.energy_report()?)
            .map_err(|e| ApiError::Internal(format!("cannot write {}: {e}", path.display())))?;
        Ok(path)
    }
}

/// The power chart of the report covers the last hour.
const REPORT_WINDOW_MS: i64 = 3_600_000;
