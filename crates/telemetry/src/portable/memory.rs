//! Memory and swap from sysinfo. "Used" is total minus available, as in the /proc collector.

use steward_core::{MemoryStats, Reading, Snapshot};
use sysinfo::{MemoryRefreshKind, System};

use crate::{Collector, Cost};

pub struct PortableMemory {
    system: Result<System, String>,
}

impl PortableMemory {
    pub fn new() -> Self {
        PortableMemory { system: System::new().map_err(|e| super::unopened("memory", e)) }
    }
}

impl Collector for PortableMemory {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, _now_ms: i64, snap: &mut Snapshot) {
        snap.memory = match &mut self.system {
            Ok(s) => {
                s.refresh_memory_specifics(MemoryRefreshKind::everything());
                let (total, available) = (s.total_memory(), s.available_memory());
                Reading::from(MemoryStats {
                    total_bytes: total,
                    used_bytes: total.saturating_sub(available),
                    available_bytes: available,
                    swap_total_bytes: s.total_swap(),
                    swap_used_bytes: s.used_swap(),
                })
            }
            Err(why) => Reading::unavailable(why.clone()),
        };
    }
}
