//! Per-process TCP traffic per interface, from the kernel's per-socket byte counters
//! (`sock_diag`), so a network finding can name the processes moving the bytes.
//!
//! Each sample dumps every TCP socket (one netlink dump per address family; the kernel walks its
//! whole established-socket hash table, a few ms on a large host, however few sockets there are),
//! turns counter differences into per-socket rates, and attributes busy sockets to processes
//! through a cached `/proc/<pid>/fd` lookup (`owners`). So it runs only while a link could be
//! judged saturated (`links_busy`): an idle host pays nothing. Only TCP is covered: `tcp_info` has
//! byte counters, UDP sockets have none.

mod interfaces;
mod owners;
mod sock_diag;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;

use steward_core::{NetStats, ProcessNet};

pub use interfaces::Interfaces;
pub use owners::{Owner, Owners, parse_socket_link};
pub use sock_diag::{SockDiag, TcpSocket, tcp_info_bytes};

use crate::sysfs::rate;

/// A socket moving less than this is not worth a `/proc` scan to find its owner. Low, because a
/// server saturating a link may do it over thousands of modest connections; the scan is one walk
/// of `/proc` at most per interval however many sockets it looks for.
pub const BUSY_FLOOR_BPS: f64 = 8.0 * 1024.0;

/// A link carrying at least this share of its speed (either direction) makes sockets worth
/// dumping: well under the network rule's line (80 %), so culprits are known before it fires.
pub const BUSY_LINK_PCT: f64 = 10.0;

/// Whether any link with a known speed is busy enough to attribute its traffic. Links without
/// one (loopback, virtual) are never judged by the network rule, so never worth the dump.
pub fn links_busy(networks: &[NetStats]) -> bool {
    networks.iter().any(|n| {
        let Some(&mbps) = n.link_speed_mbps.value().filter(|&&s| s > 0) else { return false };
        let line = BUSY_LINK_PCT / 100.0 * mbps as f64 * 1e6 / 8.0;
        n.rx_bps.unwrap_or(0.0) >= line || n.tx_bps.unwrap_or(0.0) >= line
    })
}

/// One socket's rates since the previous dump.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SocketRate {
    pub inode: u64,
    pub local: IpAddr,
    pub remote: IpAddr,
    pub rx_bps: f64,
    pub tx_bps: f64,
}

impl SocketRate {
    pub fn total_bps(&self) -> f64 {
        self.rx_bps + self.tx_bps
    }
}

/// Rates of the sockets in `now` that were also in `prev` (inode → sent, received), `dt_ms`
/// apart. A socket new since `prev` gives no rate yet: its counters start at its connection,
/// which may predate `prev` (a dump is not atomic and can miss a socket), so counting them all
/// in one interval could invent a burst.
pub fn socket_rates(prev: &HashMap<u64, (u64, u64)>, now: &[TcpSocket], dt_ms: i64) -> Vec<SocketRate> {
    now.iter()
        .filter_map(|s| {
            let &(sent, received) = prev.get(&s.inode)?;
            Some(SocketRate {
                inode: s.inode,
                local: s.local,
                remote: s.remote,
                rx_bps: rate(received, s.received, dt_ms)?,
                tx_bps: rate(sent, s.sent, dt_ms)?,
            })
        })
        .collect()
}

/// A process instance's TCP rates per interface.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessTraffic {
    pub owner: Owner,
    /// Sorted by interface name.
    pub net: Vec<ProcessNet>,
}

impl ProcessTraffic {
    pub fn total_bps(&self) -> f64 {
        self.net.iter().map(|n| n.rx_bps + n.tx_bps).sum()
    }
}

/// Socket rates summed per owner and interface; sockets without a known owner or interface are
/// left out. Sorted by pid.
pub fn per_process(
    rates: &[SocketRate],
    owner_of: impl Fn(u64) -> Option<Owner>,
    interface_of: impl Fn(IpAddr, IpAddr) -> Option<String>,
) -> Vec<ProcessTraffic> {
    let mut sums: BTreeMap<(u32, u64), BTreeMap<String, (f64, f64)>> = BTreeMap::new();
    for r in rates.iter().filter(|r| r.total_bps() > 0.0) {
        let (Some(owner), Some(interface)) = (owner_of(r.inode), interface_of(r.local, r.remote)) else { continue };
        let e = sums.entry((owner.pid, owner.start_ticks)).or_default().entry(interface).or_default();
        e.0 += r.rx_bps;
        e.1 += r.tx_bps;
    }
    sums.into_iter()
        .map(|((pid, start_ticks), by_if)| ProcessTraffic {
            owner: Owner { pid, start_ticks },
            net: by_if
                .into_iter()
                .map(|(interface, (rx_bps, tx_bps))| ProcessNet { interface, rx_bps, tx_bps })
                .collect(),
        })
        .collect()
}

/// The collector-side state: the sock_diag socket, the previous dump's counters and the owner
/// cache.
pub struct SocketTraffic {
    diag: Option<SockDiag>,
    owners: Owners,
    prev: HashMap<u64, (u64, u64)>,
    prev_ms: Option<i64>,
    dump: Vec<TcpSocket>,
}

impl SocketTraffic {
    /// Opens sock_diag; where that fails (not Linux, no netlink in a sandbox) says why once and
    /// samples nothing after.
    pub fn new(root: impl Into<PathBuf>) -> SocketTraffic {
        let diag = SockDiag::open()
            .inspect_err(|e| tracing::info!("per-process network rates are not collected: sock_diag unavailable ({e})"))
            .ok();
        SocketTraffic { diag, owners: Owners::new(root), prev: HashMap::new(), prev_ms: None, dump: Vec::new() }
    }

    /// Per-process rates since the previous call; `None` while unavailable or on the first call.
    /// Owners of new busy sockets are looked up at most once per `scan_interval_ms`.
    pub fn sample(&mut self, now_ms: i64, scan_interval_ms: i64) -> Option<Vec<ProcessTraffic>> {
        let diag = self.diag.as_mut()?;
        self.dump.clear();
        if let Err(e) = diag.dump(&mut self.dump) {
            if self.prev_ms.is_none() {
                tracing::info!("per-process network rates are not collected: sock_diag dump failed ({e})");
                self.diag = None;
            } else {
                tracing::debug!("sock_diag dump failed, this sample has no network rates: {e}");
            }
            self.prev.clear();
            self.prev_ms = None;
            return None;
        }
        let rates = self.prev_ms.map(|p| socket_rates(&self.prev, &self.dump, now_ms - p));
        self.prev = self.dump.iter().map(|s| (s.inode, (s.sent, s.received))).collect();
        self.prev_ms = Some(now_ms);
        let prev = &self.prev;
        self.owners.retain_live(|inode| prev.contains_key(&inode));
        let rates = rates?;
        let busy = rates.iter().filter(|r| r.total_bps() >= BUSY_FLOOR_BPS).map(|r| r.inode);
        self.owners.resolve(busy, now_ms, scan_interval_ms);
        let interfaces = Interfaces::read()
            .inspect_err(|e| tracing::debug!("getifaddrs failed, this sample has no network rates: {e}"))
            .ok()?;
        let owners = &self.owners;
        Some(per_process(&rates, |i| owners.get(i), |l, r| interfaces.of(l, r).map(str::to_string)))
    }

    /// No dump this time: the next one only seeds counters again, rather than giving rates
    /// averaged over the pause.
    pub fn pause(&mut self) {
        self.prev.clear();
        self.prev_ms = None;
    }

    /// See [`Owners::forget_pid`].
    pub fn forget_pid(&mut self, pid: u32) {
        self.owners.forget_pid(pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(inode: u64, local: &str, sent: u64, received: u64) -> TcpSocket {
        TcpSocket { inode, local: local.parse().unwrap(), remote: "10.0.0.9".parse().unwrap(), sent, received }
    }

    #[test]
    fn only_a_busy_link_with_a_known_speed_is_worth_a_dump() {
        use steward_core::Reading;
        let link = |name: &str, bps: f64, speed: Reading<u64>| NetStats {
            name: name.into(),
            rx_bytes_total: 0,
            tx_bytes_total: 0,
            rx_bps: Some(0.0),
            tx_bps: Some(bps),
            link_speed_mbps: speed,
        };
        // 10 % of a gigabit link is 12.5 MB/s.
        assert!(links_busy(&[link("eth0", 12.5e6, 1000.into())]));
        assert!(!links_busy(&[link("eth0", 12.4e6, 1000.into())]));
        assert!(!links_busy(&[link("lo", 5e9, Reading::unavailable("virtual"))]), "loopback is never judged");
        assert!(!links_busy(&[]));
    }

    #[test]
    fn rates_come_from_sockets_seen_twice() {
        let prev = HashMap::from([(1, (1_000, 0)), (2, (0, 500))]);
        let now =
            [sock(1, "192.168.1.5", 3_000, 0), sock(2, "192.168.1.5", 0, 100), sock(3, "192.168.1.5", 9e9 as u64, 0)];
        let r = socket_rates(&prev, &now, 2_000);
        // 2: counters went backwards (an inode reused by a new socket): no rate. 3: new, no rate.
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].inode, r[0].tx_bps, r[0].rx_bps), (1, 1_000.0, 0.0));
    }

    #[test]
    fn traffic_is_summed_per_process_and_interface() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let r = |inode, local: &str, rx_bps, tx_bps| SocketRate {
            inode,
            local: ip(local),
            remote: ip("10.0.0.9"),
            rx_bps,
            tx_bps,
        };
        let rates = [
            r(1, "192.168.1.5", 10.0, 1e6),
            r(2, "192.168.1.5", 5.0, 2e6),
            r(3, "127.0.0.1", 7e6, 7e6),
            r(4, "192.168.1.5", 1.0, 1.0), // owner unknown
            r(5, "172.16.0.1", 1e9, 1e9),  // no interface holds it
        ];
        let owner = |i: u64| (i != 4).then_some(Owner { pid: if i == 3 { 9 } else { 7 }, start_ticks: 1 });
        let iface = |l: IpAddr, _| match l.to_string().as_str() {
            "192.168.1.5" => Some("eth0".to_string()),
            "127.0.0.1" => Some("lo".to_string()),
            _ => None,
        };
        let p = per_process(&rates, owner, iface);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].owner.pid, 7);
        assert_eq!(p[0].net, vec![ProcessNet { interface: "eth0".into(), rx_bps: 15.0, tx_bps: 3e6 }]);
        assert_eq!(p[1].net, vec![ProcessNet { interface: "lo".into(), rx_bps: 7e6, tx_bps: 7e6 }]);
        assert_eq!(p[1].total_bps(), 14e6);
    }
}
