//! Flattening a [`Snapshot`] into named numeric series for history.
//!
//! Series names are dotted paths (`cpu.total`, `cpu.core.3`, `net.eth0.rx_bps`,
//! `proc.1234.cpu`); a remote node's are the same under `node.<id>.` ([`node_series`]). The
//! store knows nothing of their meaning; the UI asks for them by name.

use crate::{Reading, Snapshot};

/// The history name of a remote node's series: `node.<id>.<series>` (an id is an address,
/// `host:port`, so the prefix `node.<id>.` never matches another node's series).
pub fn node_series(node_id: &str, series: &str) -> String {
    format!("node.{node_id}.{series}")
}

/// One value of one series at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesValue {
    pub series: String,
    pub value: f64,
}

/// Every numeric signal in `snap` that is available, as `(series, value)`.
/// Unavailable readings and not-yet-known rates produce no value (never a zero).
pub fn flatten(snap: &Snapshot) -> Vec<SeriesValue> {
    let mut out = Vec::with_capacity(64);
    let mut push = |series: String, value: f64| {
        if value.is_finite() {
            out.push(SeriesValue { series, value });
        }
    };

    if let Some(cpu) = snap.cpu.value() {
        push("cpu.total".into(), cpu.total_pct);
        for (i, pct) in cpu.per_core_pct.iter().enumerate() {
            push(format!("cpu.core.{i}"), *pct);
        }
        push("cpu.load1".into(), cpu.load_avg[0]);
    }
    if let Some(m) = snap.memory.value() {
        push("mem.used".into(), m.used_bytes as f64);
        push("mem.available".into(), m.available_bytes as f64);
        push("swap.used".into(), m.swap_used_bytes as f64);
    }
    if let Some(p) = snap.pressure.value() {
        for (name, res) in [("cpu", &p.cpu), ("memory", &p.memory), ("io", &p.io)] {
            if let Some(r) = res.value() {
                push(format!("psi.{name}.some"), r.some.avg10);
                if let Some(full) = r.full {
                    push(format!("psi.{name}.full"), full.avg10);
                }
            }
        }
    }
    for d in snap.disks.value().into_iter().flatten() {
        if let Some(v) = d.read_bps {
            push(format!("disk.{}.read_bps", d.name), v);
        }
        if let Some(v) = d.write_bps {
            push(format!("disk.{}.write_bps", d.name), v);
        }
        if let Some(v) = d.util_pct.value() {
            push(format!("disk.{}.util", d.name), *v);
        }
        if let Some(v) = d.queue_depth.value() {
            push(format!("disk.{}.queue", d.name), *v);
        }
    }
    for n in snap.networks.value().into_iter().flatten() {
        if let Some(v) = n.rx_bps {
            push(format!("net.{}.rx_bps", n.name), v);
        }
        if let Some(v) = n.tx_bps {
            push(format!("net.{}.tx_bps", n.name), v);
        }
    }
    for t in snap.temperatures.value().into_iter().flatten() {
        push(format!("temp.{}", t.sensor), t.celsius);
    }
    for g in snap.gpus.value().into_iter().flatten() {
        let i = g.index;
        let mut opt = |name: &str, r: Option<f64>| {
            if let Some(v) = r {
                push(format!("gpu.{i}.{name}"), v);
            }
        };
        opt("util", g.utilization_pct.value().copied());
        opt("mem_used", g.memory_used_bytes.value().map(|v| *v as f64));
        opt("power_w", g.power_w.value().copied());
        opt("temp", g.temperature_c.value().copied());
        opt("sm_clock", g.sm_clock_mhz.value().map(|v| *v as f64));
    }
    for r in snap.rapl.value().into_iter().flatten() {
        if let Some(w) = r.power_w {
            push(format!("rapl.{}.power_w", r.name), w);
        }
    }
    if let Some(e) = snap.energy.value() {
        // `energy.<provenance>.<source>.w|cum_j`; the interval joules (`.j`) are derived at
        // ingest (`energy::intervals`), where it is known which snapshots history records.
        for s in &e.sources {
            let base = format!("energy.{}.{}", s.provenance.word(), s.id);
            if let Some(w) = s.power_w.value() {
                push(format!("{base}.w"), *w);
            }
            if let Some(j) = s.energy_j {
                push(format!("{base}.cum_j"), j);
            }
        }
        if let Some(w) = e.total_w.value() {
            push(format!("energy.{}.total.w", e.total_provenance.word()), *w);
        }
    }
    if let Reading::Available { value: procs } = &snap.processes {
        for p in &procs.top {
            push(format!("proc.{}.cpu", p.pid), p.cpu_pct);
            push(format!("proc.{}.rss", p.pid), p.rss_bytes as f64);
            if let Some(v) = p.read_bps {
                push(format!("proc.{}.read_bps", p.pid), v);
            }
            if let Some(v) = p.write_bps {
                push(format!("proc.{}.write_bps", p.pid), v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CpuStats, MemoryStats, NetStats};

    #[test]
    fn flattens_available_values_and_skips_unknown_ones() {
        let mut s = Snapshot::empty(1_000);
        s.cpu = CpuStats {
            total_pct: 12.5,
            per_core_pct: vec![10.0, 15.0],
            load_avg: [0.5, 0.4, 0.3],
            frequency_mhz: Reading::unavailable("no cpufreq"),
        }
        .into();
        s.memory = MemoryStats {
            total_bytes: 100,
            used_bytes: 40,
            available_bytes: 60,
            swap_total_bytes: 0,
            swap_used_bytes: 0,
        }
        .into();
        s.networks = vec![NetStats {
            name: "eth0".into(),
            rx_bytes_total: 1,
            tx_bytes_total: 2,
            rx_bps: None,
            tx_bps: Some(3.0),
            link_speed_mbps: Reading::unavailable("virtual link"),
        }]
        .into();
        let names: Vec<_> = flatten(&s).into_iter().map(|v| (v.series, v.value)).collect();
        assert!(names.contains(&("cpu.core.1".into(), 15.0)));
        assert!(names.contains(&("mem.used".into(), 40.0)));
        assert!(names.contains(&("net.eth0.tx_bps".into(), 3.0)));
        assert!(!names.iter().any(|(n, _)| n == "net.eth0.rx_bps"), "unknown rate must not become 0");
        assert!(!names.iter().any(|(n, _)| n.starts_with("gpu.")));
    }
}
