//! Interfaces' byte counters, rates and link speed from sysinfo.

use std::collections::HashMap;

use steward_core::{NetStats, Reading, Snapshot};
use sysinfo::Networks;

use crate::sysfs::rate;
use crate::{Collector, Cost};

pub struct PortableNetwork {
    networks: Result<Networks, String>,
    prev: HashMap<String, (u64, u64)>,
    prev_ms: Option<i64>,
}

impl PortableNetwork {
    pub fn new() -> Self {
        PortableNetwork {
            networks: Networks::new().map_err(|e| super::unopened("network", e)),
            prev: HashMap::new(),
            prev_ms: None,
        }
    }

    fn sample(&mut self, now_ms: i64) -> Reading<Vec<NetStats>> {
        let networks = match &mut self.networks {
            Ok(n) => n,
            Err(why) => return Reading::unavailable(why.clone()),
        };
        networks.refresh(true);
        let dt = self.prev_ms.replace(now_ms).map(|p| now_ms - p);
        let mut out = Vec::new();
        let mut next = HashMap::new();
        for (name, n) in networks.iter() {
            let name = name.to_string_lossy().into_owned();
            let (rx, tx) = (n.total_received(), n.total_transmitted());
            let (rx_bps, tx_bps) = match (self.prev.get(&name), dt) {
                (Some(&(prx, ptx)), Some(dt)) => (rate(prx, rx, dt), rate(ptx, tx, dt)),
                _ => (None, None),
            };
            let link_speed_mbps = match n.receive_link_speed() {
                Some(bits) if bits > 0 => Reading::from(bits / 1_000_000),
                _ => Reading::unavailable("link speed unknown (virtual interface or no carrier)"),
            };
            next.insert(name.clone(), (rx, tx));
            out.push(NetStats { name, rx_bytes_total: rx, tx_bytes_total: tx, rx_bps, tx_bps, link_speed_mbps });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        self.prev = next;
        Reading::from(out)
    }
}

impl Collector for PortableNetwork {
    fn name(&self) -> &'static str {
        "network"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot) {
        snap.networks = self.sample(now_ms);
    }
}
