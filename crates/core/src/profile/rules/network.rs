//! Network saturation against link speed. An interface whose link speed is unknown (virtual
//! links, no carrier) is never judged: its utilization would be a guess.

use crate::profile::finding::{Finding, Resource};
use crate::profile::window::Context;

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
        let util = |dir: fn(&crate::NetStats) -> Option<f64>| {
            ctx.mean(|s| {
                let n = s.networks.value()?.iter().find(|n| n.name == net.name)?;
                dir(n).map(|bps| 100.0 * bps * 8.0 / (speed as f64 * 1e6))
            })
        };
        let mut evidence = Vec::new();
        for (dir, u) in [("rx", util(|n| n.rx_bps)), ("tx", util(|n| n.tx_bps))] {
            if let Some((u, n)) = u.filter(|(u, _)| *u >= line) {
                evidence.push(ctx.evidence(format!("net.{}.{dir} of {speed} Mb/s link", net.name), u, line, "%", n));
            }
        }
        if evidence.is_empty() {
            continue;
        }
        out.push(Finding {
            key,
            resource: Resource::Network,
            severity: super::severity(evidence.len(), false),
            summary: format!("Network link {} is near its {speed} Mb/s capacity", net.name),
            // Per-process network bytes are not collected: no culprit is named rather than a guess.
            culprits: vec![],
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
    use crate::{NetStats, Reading};

    fn net(rx_bps: f64, speed: Reading<u64>) -> Reading<Vec<NetStats>> {
        vec![NetStats { name: "eth0".into(), rx_bytes_total: 0, tx_bytes_total: 0, rx_bps: Some(rx_bps), tx_bps: Some(0.0), link_speed_mbps: speed }].into()
    }

    #[test]
    fn a_full_gigabit_link_fires() {
        let w = window(5, |_, s| s.networks = net(120e6, 1000.into()));
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].key, "net.eth0");
        assert!((f[0].evidence[0].value - 96.0).abs() < 1e-9);
    }

    #[test]
    fn unknown_link_speed_or_light_traffic_does_not() {
        let w = window(5, |_, s| s.networks = net(120e6, Reading::unavailable("virtual link")));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
        let w = window(5, |_, s| s.networks = net(10e6, 1000.into()));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
    }
}
