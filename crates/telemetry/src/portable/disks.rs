//! File systems (size, free space) and their read/write rates from sysinfo. Utilisation and
//! queue depth have no portable source: unavailable.

use steward_core::{DiskStats, Reading, Snapshot};
use sysinfo::Disks;

use crate::{Collector, Cost};

pub struct PortableDisks {
    disks: Result<Disks, String>,
    prev_ms: Option<i64>,
}

impl PortableDisks {
    pub fn new() -> Self {
        PortableDisks { disks: Disks::new().map_err(|e| super::unopened("disks", e)), prev_ms: None }
    }
}

fn stats(d: &sysinfo::Disk, dt_ms: Option<i64>) -> DiskStats {
    let usage = d.usage();
    let per_s = |bytes: u64| dt_ms.filter(|dt| *dt > 0).map(|dt| bytes as f64 * 1000.0 / dt as f64);
    let name = d.name().to_string_lossy();
    let no_source = || Reading::unavailable("not available with the portable telemetry backend (sysinfo)");
    DiskStats {
        // `/dev/vda1` → `vda1`, as the block device is named elsewhere.
        name: name.rsplit('/').next().unwrap_or(&name).to_string(),
        mount_point: d.mount_point().to_string_lossy().into_owned(),
        file_system: d.file_system().to_string_lossy().into_owned(),
        total_bytes: d.total_space(),
        available_bytes: d.available_space(),
        read_bps: per_s(usage.read_bytes),
        write_bps: per_s(usage.written_bytes),
        util_pct: no_source(),
        queue_depth: no_source(),
    }
}

impl Collector for PortableDisks {
    fn name(&self) -> &'static str {
        "disks"
    }
    fn cost(&self) -> Cost {
        Cost::Expensive
    }
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot) {
        snap.disks = match &mut self.disks {
            Ok(disks) => {
                disks.refresh(true);
                let dt = self.prev_ms.replace(now_ms).map(|p| now_ms - p);
                Reading::from(disks.iter().map(|d| stats(d, dt)).collect::<Vec<_>>())
            }
            Err(why) => Reading::unavailable(why.clone()),
        };
    }
}
