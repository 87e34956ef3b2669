//! Per-interface traffic from `/proc/net/dev`; link speed from `/sys/class/net/<if>/speed`.

use std::collections::HashMap;
use std::path::PathBuf;

use steward_core::{NetStats, Reading, Snapshot};

use crate::sysfs::{rate, read_i64, read_into, under};
use crate::{Collector, Cost, TelemetryError};

/// (interface, rx bytes, tx bytes) for each line of `/proc/net/dev`.
pub fn parse_net_dev(text: &str) -> Option<Vec<(String, u64, u64)>> {
    let mut out = Vec::new();
    for line in text.lines().skip(2) {
        let (name, rest) = line.split_once(':')?;
        let f: Vec<&str> = rest.split_ascii_whitespace().collect();
        if f.len() < 16 {
            return None;
        }
        out.push((name.trim().to_string(), f[0].parse().ok()?, f[8].parse().ok()?));
    }
    Some(out)
}

pub struct NetworkCollector {
    root: PathBuf,
    prev: HashMap<String, (u64, u64)>,
    prev_ms: Option<i64>,
    buf: String,
}

impl NetworkCollector {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        NetworkCollector { root: root.into(), prev: HashMap::new(), prev_ms: None, buf: String::new() }
    }

    fn link_speed(&self, ifname: &str) -> Reading<u64> {
        let path = under(&self.root, &format!("/sys/class/net/{ifname}/speed"));
        match read_i64(&path) {
            Ok(v) if v > 0 => Reading::from(v as u64),
            // -1 (SPEED_UNKNOWN) or an EINVAL read: virtual links and links without carrier.
            Ok(_) | Err(TelemetryError::Io { .. }) | Err(TelemetryError::Missing { .. }) => {
                Reading::unavailable("link speed unknown (virtual interface or no carrier)")
            }
            Err(e) => Reading::unavailable(e.to_string()),
        }
    }

    fn sample(&mut self, now_ms: i64) -> Result<Vec<NetStats>, TelemetryError> {
        let path = under(&self.root, "/proc/net/dev");
        read_into(&path, &mut self.buf)?;
        let rows = parse_net_dev(&self.buf).ok_or_else(|| TelemetryError::parse(&path, "malformed interface line"))?;
        let dt = self.prev_ms.map(|p| now_ms - p);
        let mut out = Vec::with_capacity(rows.len());
        let mut next = HashMap::with_capacity(rows.len());
        for (name, rx, tx) in rows {
            let prev = self.prev.get(&name);
            let (rx_bps, tx_bps) = match (prev, dt) {
                (Some(&(prx, ptx)), Some(dt)) => (rate(prx, rx, dt), rate(ptx, tx, dt)),
                _ => (None, None),
            };
            out.push(NetStats {
                link_speed_mbps: self.link_speed(&name),
                name: name.clone(),
                rx_bytes_total: rx,
                tx_bytes_total: tx,
                rx_bps,
                tx_bps,
            });
            next.insert(name, (rx, tx));
        }
        self.prev = next;
        self.prev_ms = Some(now_ms);
        Ok(out)
    }
}

impl Collector for NetworkCollector {
    fn name(&self) -> &'static str {
        "network"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot) {
        snap.networks = self.sample(now_ms).into();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn parses_interfaces_speeds_and_rates() {
        let dir = tempfile::tempdir().unwrap();
        let src = fixture("x86_64_a");
        std::fs::create_dir_all(dir.path().join("proc/net")).unwrap();
        let text = std::fs::read_to_string(src.join("proc/net/dev")).unwrap();
        std::fs::write(dir.path().join("proc/net/dev"), &text).unwrap();
        copy_dir(&src.join("sys"), &dir.path().join("sys"));

        let mut c = NetworkCollector::new(dir.path());
        let mut snap = Snapshot::empty(0);
        c.collect(1_000, &mut snap);
        let v = snap.networks.value().unwrap().clone();
        assert_eq!(v.len(), 4);
        let eth = v.iter().find(|n| n.name == "enp0s31f6").unwrap();
        assert_eq!((eth.rx_bytes_total, eth.tx_bytes_total), (4391862331, 291847120));
        assert_eq!(eth.link_speed_mbps, Reading::from(1000));
        assert_eq!((eth.rx_bps, eth.tx_bps), (None, None));
        let docker = v.iter().find(|n| n.name == "docker0").unwrap();
        assert!(docker.link_speed_mbps.reason().unwrap().contains("unknown"));
        assert!(v.iter().find(|n| n.name == "lo").unwrap().link_speed_mbps.reason().is_some());

        // 2 s later: +2_000_000 rx, +500_000 tx on the wired link.
        let text = text.replace("4391862331", "4393862331").replace("291847120", "292347120");
        std::fs::write(dir.path().join("proc/net/dev"), &text).unwrap();
        c.collect(3_000, &mut snap);
        let eth = snap.networks.value().unwrap().iter().find(|n| n.name == "enp0s31f6").unwrap().clone();
        assert_eq!((eth.rx_bps, eth.tx_bps), (Some(1_000_000.0), Some(250_000.0)));
    }

    #[test]
    fn malformed_is_unavailable() {
        assert_eq!(parse_net_dev("h\nh\n  eth0: 1 2 3\n"), None);
        let mut c = NetworkCollector::new(fixture("empty"));
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        assert!(snap.networks.reason().is_some());
    }

    pub(crate) fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let t = to.join(e.file_name());
            let ty = e.file_type().unwrap();
            if ty.is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), t).unwrap();
            } else if ty.is_dir() {
                copy_dir(&e.path(), &t);
            } else {
                std::fs::copy(e.path(), t).unwrap();
            }
        }
    }
}
