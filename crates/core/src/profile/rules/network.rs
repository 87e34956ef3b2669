//! Network saturation against link speed. An interface whose link speed is unknown (virtual
//! links, no carrier) is never judged: its utilization would be a guess.
//!
//! Culprits are ranked by their TCP bytes on the finding's interface, in the directions that are
//! saturated (`ProcessStats::net`). Only TCP is attributed to processes (the kernel keeps no
//! per-socket UDP byte counts), so when the named processes account for little of the link's
//! traffic the summary says how much, rather than letting them stand for all of it.

use crate::profile::finding::{Culprit, Finding, Resource};
use crate::profile::window::Context;
use crate::{NetStats, ProcessNet, ProcessStats, Snapshot};

/// Below this share of the link's bytes attributed to processes, the summary says so.
const ATTRIBUTED_ENOUGH_PCT: f64 = 50.0;

/// Which directions of a link a finding is about.
#[derive(Clone, Copy)]
struct Directions {
    rx: bool,
    tx: bool,
}

impl Directions {
    fn bytes(self, rx_bps: f64, tx_bps: f64) -> f64 {
        let pick = |on: bool, bps: f64| if on { bps } else { 0.0 };
        pick(self.rx, rx_bps) + pick(self.tx, tx_bps)
    }

    fn of_link(self, n: &NetStats) -> Option<f64> {
        // A direction the finding is not about may be unknown without making the sum unknown.
        let known = |on: bool, bps: Option<f64>| if on { bps } else { Some(0.0) };
        Some(self.bytes(known(self.rx, n.rx_bps)?, known(self.tx, n.tx_bps)?))
    }

    fn of_process(self, p: &ProcessStats, interface: &str) -> f64 {
        // A fold from +0.0: an empty float `sum()` is -0.0, which would print as "-0 %".
        p.net
            .iter()
            .filter(|n| n.interface == interface)
            .fold(0.0, |a, n: &ProcessNet| a + self.bytes(n.rx_bps, n.tx_bps))
    }
}

/// Whether any process in the window has network rates: otherwise they are not collected here
/// and nothing can be said about attribution.
fn attribution_collected(ctx: &Context) -> bool {
    ctx.samples.iter().filter_map(|s| s.processes.value()).any(|t| t.top.iter().any(|p| !p.net.is_empty()))
}

/// The culprits part of the summary: who, and how little is attributed when that is little.
fn who(ctx: &Context, interface: &str, dirs: Directions, link_bps: f64, culprits: &[Culprit]) -> String {
    if !attribution_collected(ctx) {
        return String::new();
    }
    let attributed = ctx
        .mean(|s: &Snapshot| Some(s.processes.value()?.top.iter().fold(0.0, |a, p| a + dirs.of_process(p, interface))))
        .map_or(0.0, |(v, _)| v);
    let share = if link_bps > 0.0 { (100.0 * attributed / link_bps).min(100.0) } else { 0.0 };
    let named = culprits.first().map(|c| format!(", mostly {} (PID {})", c.name, c.pid)).unwrap_or_default();
    if share >= ATTRIBUTED_ENOUGH_PCT {
        named
    } else if culprits.is_empty() {
        format!("; only {share:.0} % of its traffic is attributed to processes (TCP only), none enough to name")
    } else {
        format!("{named}; only {share:.0} % of its traffic is attributed to processes (TCP only)")
    }
}

pub fn saturation(ctx: &Context) -> Vec<Finding> {
    let t = ctx.thresholds;
    let Some(nets) = ctx.latest(|s| s.networks.value().cloned()) else { return vec![] };
    let mut out = Vec::new();
    for net in nets {
        let Some(&speed) = net.link_speed_mbps.value() else { continue };
        if speed == 0 {
            continue;
        }
        let key = format!("net.{}", net.name);
        let line = t.above(t.net_util_pct, ctx.is_active(&key));
        let link = |s: &Snapshot| s.networks.value()?.iter().find(|n| n.name == net.name).cloned();
        let util = |dir: fn(&NetStats) -> Option<f64>| {
            ctx.mean(|s| dir(&link(s)?).map(|bps| 100.0 * bps * 8.0 / (speed as f64 * 1e6)))
        };
        let (rx, tx) = (util(|n| n.rx_bps).filter(|(u, _)| *u >= line), util(|n| n.tx_bps).filter(|(u, _)| *u >= line));
        let mut evidence = Vec::new();
        for (dir, u) in [("rx", rx), ("tx", tx)] {
            if let Some((u, n)) = u {
                evidence.push(ctx.evidence(format!("net.{}.{dir} of {speed} Mb/s link", net.name), u, line, "%", n));
            }
        }
        if evidence.is_empty() {
            continue;
        }
        let dirs = Directions { rx: rx.is_some(), tx: tx.is_some() };
        let link_bps = ctx.mean(|s| dirs.of_link(&link(s)?)).map_or(0.0, |(v, _)| v);
        let culprits = ctx.culprits(|p| dirs.of_process(p, &net.name), link_bps, "B/s");
        let who = who(ctx, &net.name, dirs, link_bps, &culprits);
        out.push(Finding {
            key,
            resource: Resource::Network,
            severity: super::severity(evidence.len(), false),
            summary: format!("Network link {} is near its {speed} Mb/s capacity{who}", net.name),
            culprits,
            evidence,
            since_ms: ctx.to_ms(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::profile::Thresholds;
    use crate::{NetStats, ProcessNet, ProcessStats, ProcessTable, Reading};

    fn net(rx_bps: f64, speed: Reading<u64>) -> Reading<Vec<NetStats>> {
        link(rx_bps, 0.0, speed)
    }

    fn link(rx_bps: f64, tx_bps: f64, speed: Reading<u64>) -> Reading<Vec<NetStats>> {
        vec![NetStats {
            name: "eth0".into(),
            rx_bytes_total: 0,
            tx_bytes_total: 0,
            rx_bps: Some(rx_bps),
            tx_bps: Some(tx_bps),
            link_speed_mbps: speed,
        }]
        .into()
    }

    /// A process at 1 % CPU moving `(interface, rx, tx)` bytes per second.
    fn talker(pid: u32, name: &str, net: &[(&str, f64, f64)]) -> ProcessStats {
        let net = net.iter().map(|&(i, rx_bps, tx_bps)| ProcessNet { interface: i.into(), rx_bps, tx_bps }).collect();
        ProcessStats { net, ..proc(pid, name, 1.0, 1) }
    }

    fn table(top: Vec<ProcessStats>) -> Reading<ProcessTable> {
        ProcessTable { count: top.len() as u32, top }.into()
    }

    #[test]
    fn a_full_gigabit_link_fires() {
        let w = window(5, |_, s| s.networks = net(120e6, 1000.into()));
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].key, "net.eth0");
        assert!((f[0].evidence[0].value - 96.0).abs() < 1e-9);
        assert!(f[0].culprits.is_empty());
        assert_eq!(
            f[0].summary, "Network link eth0 is near its 1000 Mb/s capacity",
            "no process rates: no claim about them"
        );
    }

    #[test]
    fn unknown_link_speed_or_light_traffic_does_not() {
        let w = window(5, |_, s| s.networks = net(120e6, Reading::unavailable("virtual link")));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
        let w = window(5, |_, s| s.networks = net(10e6, 1000.into()));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
    }

    #[test]
    fn the_senders_on_the_saturated_link_are_named() {
        let w = window(5, |_, s| {
            s.networks = link(1e6, 118e6, 1000.into());
            s.processes = table(vec![
                talker(21, "rsync", &[("eth0", 0.2e6, 100e6)]),
                talker(22, "curl", &[("eth0", 0.1e6, 15e6), ("lo", 0.0, 900e6)]),
                talker(23, "tiny", &[("eth0", 0.0, 1e6)]),
            ]);
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        let named: Vec<(u32, f64)> = f[0].culprits.iter().map(|c| (c.pid, c.usage)).collect();
        // Ranked by tx on eth0 (the saturated direction): curl's loopback bytes do not count.
        assert_eq!(named, vec![(21, 100e6), (22, 15e6)], "tiny is under the 10 % share");
        assert_eq!(f[0].culprits[0].unit, "B/s");
        assert_eq!(f[0].summary, "Network link eth0 is near its 1000 Mb/s capacity, mostly rsync (PID 21)");
    }

    #[test]
    fn loopback_traffic_does_not_blame_for_eth0() {
        let w = window(5, |_, s| {
            s.networks = link(0.0, 118e6, 1000.into());
            s.processes = table(vec![talker(31, "redis-server", &[("lo", 2e9, 2e9)])]);
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        assert!(f[0].culprits.is_empty(), "{:?}", f[0].culprits);
        assert!(
            f[0].summary
                .ends_with("only 0 % of its traffic is attributed to processes (TCP only), none enough to name"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn little_attributed_traffic_is_said_not_hidden() {
        // Mostly UDP (a video call, say): TCP covers a sixth of the received bytes.
        let w = window(5, |_, s| {
            s.networks = link(120e6, 1e6, 1000.into());
            s.processes = table(vec![talker(41, "git", &[("eth0", 20e6, 0.1e6)])]);
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f[0].culprits[0].pid, 41);
        assert!(
            f[0].summary
                .ends_with("mostly git (PID 41); only 17 % of its traffic is attributed to processes (TCP only)"),
            "{}",
            f[0].summary
        );
    }
}
