//! A node's snapshot as metrics, every sample labelled with `node`. Only readings that are
//! available become samples; rates that need two snapshots are absent on the first.

use steward_core::{
    CpuStats, DiskStats, GpuStats, MemoryStats, NetStats, Pressure, PsiResource, RaplDomain, Reading, Snapshot,
    Temperature,
};

use crate::Exposition;
use crate::catalog::*;
use crate::exposition::Labels;

/// The labels of one node's samples: `node` first, then the sample's own.
#[derive(Clone, Copy)]
struct At<'a>(&'a str);

impl At<'_> {
    fn labels(self, extra: &[(&'static str, &str)]) -> Labels {
        let mut labels = vec![("node", self.0.to_string())];
        labels.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        labels
    }
}

/// Adds `snap`'s metrics for node `node`.
pub fn node_metrics(exp: &mut Exposition, node: &str, snap: &Snapshot) {
    let node = At(node);
    let at = |extra: &[(&'static str, &str)]| node.labels(extra);
    exp.add(&NODE_SNAPSHOT_TIMESTAMP, at(&[]), snap.ts_ms as f64 / 1000.0);
    if let Some(cpu) = snap.cpu.value() {
        cpu_metrics(exp, node, cpu);
    }
    if let Some(memory) = snap.memory.value() {
        memory_metrics(exp, &at(&[]), memory);
    }
    if let Some(pressure) = snap.pressure.value() {
        pressure_metrics(exp, &at(&[]), pressure);
    }
    for d in snap.disks.value().into_iter().flatten() {
        disk_metrics(exp, node, d);
    }
    for n in snap.networks.value().into_iter().flatten() {
        network_metrics(exp, &at(&[("device", &n.name)]), n);
    }
    for t in snap.temperatures.value().into_iter().flatten() {
        temperature_metrics(exp, node, t);
    }
    if let Some(p) = snap.processes.value() {
        exp.add(&NODE_PROCESSES, at(&[]), p.count.into());
    }
    for g in snap.gpus.value().into_iter().flatten() {
        gpu_metrics(exp, node, g);
    }
    for r in snap.rapl.value().into_iter().flatten() {
        rapl_metrics(exp, &at(&[("zone", &r.zone), ("domain", &r.name)]), r);
    }
}

fn cpu_metrics(exp: &mut Exposition, node: At, cpu: &CpuStats) {
    exp.add(&NODE_CPU_UTILIZATION, node.labels(&[]), cpu.total_pct / 100.0);
    for (i, pct) in cpu.per_core_pct.iter().enumerate() {
        exp.add(&NODE_CPU_CORE_UTILIZATION, node.labels(&[("cpu", &i.to_string())]), pct / 100.0);
    }
    for (i, mhz) in cpu.frequency_mhz.value().into_iter().flatten().enumerate() {
        exp.add(&NODE_CPU_FREQUENCY, node.labels(&[("cpu", &i.to_string())]), *mhz as f64 * 1e6);
    }
    let [one, five, fifteen] = cpu.load_avg;
    exp.add(&NODE_LOAD1, node.labels(&[]), one);
    exp.add(&NODE_LOAD5, node.labels(&[]), five);
    exp.add(&NODE_LOAD15, node.labels(&[]), fifteen);
}

fn memory_metrics(exp: &mut Exposition, at: &Labels, m: &MemoryStats) {
    exp.add(&NODE_MEMORY_TOTAL, at.clone(), m.total_bytes as f64);
    exp.add(&NODE_MEMORY_AVAILABLE, at.clone(), m.available_bytes as f64);
    exp.add(&NODE_MEMORY_USED, at.clone(), m.used_bytes as f64);
    exp.add(&NODE_MEMORY_SWAP_TOTAL, at.clone(), m.swap_total_bytes as f64);
    exp.add(&NODE_MEMORY_SWAP_USED, at.clone(), m.swap_used_bytes as f64);
}

fn pressure_metrics(exp: &mut Exposition, at: &Labels, p: &Pressure) {
    let mut psi = |resource: &Reading<PsiResource>, waiting: &'static Metric, stalled: &'static Metric| {
        let Some(r) = resource.value() else { return };
        exp.add(waiting, at.clone(), r.some.total_us as f64 / 1e6);
        if let Some(full) = &r.full {
            exp.add(stalled, at.clone(), full.total_us as f64 / 1e6);
        }
    };
    psi(&p.cpu, &NODE_PRESSURE_CPU_WAITING, &NODE_PRESSURE_CPU_STALLED);
    psi(&p.memory, &NODE_PRESSURE_MEMORY_WAITING, &NODE_PRESSURE_MEMORY_STALLED);
    psi(&p.io, &NODE_PRESSURE_IO_WAITING, &NODE_PRESSURE_IO_STALLED);
}

fn disk_metrics(exp: &mut Exposition, node: At, d: &DiskStats) {
    let fs = node.labels(&[("device", &d.name), ("mountpoint", &d.mount_point), ("fstype", &d.file_system)]);
    exp.add(&NODE_FILESYSTEM_SIZE, fs.clone(), d.total_bytes as f64);
    exp.add(&NODE_FILESYSTEM_AVAIL, fs, d.available_bytes as f64);
    let dev = node.labels(&[("device", &d.name), ("mountpoint", &d.mount_point)]);
    let mut optional = |metric: &'static Metric, value: Option<f64>| {
        if let Some(v) = value {
            exp.add(metric, dev.clone(), v);
        }
    };
    optional(&NODE_DISK_READ_RATE, d.read_bps);
    optional(&NODE_DISK_WRITE_RATE, d.write_bps);
    optional(&NODE_DISK_IO_UTILIZATION, d.util_pct.value().map(|p| p / 100.0));
    optional(&NODE_DISK_QUEUE_DEPTH, d.queue_depth.value().copied());
}

fn network_metrics(exp: &mut Exposition, at: &Labels, n: &NetStats) {
    exp.add(&NODE_NETWORK_RECEIVE, at.clone(), n.rx_bytes_total as f64);
    exp.add(&NODE_NETWORK_TRANSMIT, at.clone(), n.tx_bytes_total as f64);
    if let Some(mbps) = n.link_speed_mbps.value() {
        exp.add(&NODE_NETWORK_SPEED, at.clone(), *mbps as f64 * 125_000.0);
    }
}

fn temperature_metrics(exp: &mut Exposition, node: At, t: &Temperature) {
    // `chip/label`, as node_exporter splits it into its chip and sensor labels.
    let (chip, sensor) = t.sensor.split_once('/').unwrap_or(("", &t.sensor));
    let labels = node.labels(&[("chip", chip), ("sensor", sensor)]);
    exp.add(&NODE_HWMON_TEMP, labels.clone(), t.celsius);
    if let Some(max) = t.max_celsius {
        exp.add(&NODE_HWMON_TEMP_MAX, labels.clone(), max);
    }
    if let Some(crit) = t.critical_celsius {
        exp.add(&NODE_HWMON_TEMP_CRIT, labels, crit);
    }
}

fn gpu_metrics(exp: &mut Exposition, node: At, g: &GpuStats) {
    let device = format!("gpu{}", g.index);
    exp.add(&NODE_GPU_INFO, node.labels(&[("device", &device), ("uuid", &g.uuid), ("model", &g.name)]), 1.0);
    let labels = node.labels(&[("device", &device)]);
    let mut reading = |metric: &'static Metric, value: Option<f64>| {
        if let Some(v) = value {
            exp.add(metric, labels.clone(), v);
        }
    };
    reading(&NODE_GPU_UTILIZATION, g.utilization_pct.value().map(|p| p / 100.0));
    reading(&NODE_GPU_MEMORY_UTILIZATION, g.memory_utilization_pct.value().map(|p| p / 100.0));
    reading(&NODE_GPU_MEMORY_USED, g.memory_used_bytes.value().map(|b| *b as f64));
    reading(&NODE_GPU_MEMORY_TOTAL, g.memory_total_bytes.value().map(|b| *b as f64));
    reading(&NODE_GPU_POWER, g.power_w.value().copied());
    reading(&NODE_GPU_POWER_LIMIT, g.power_limit_w.value().copied());
    reading(&NODE_GPU_ENERGY, g.energy_j.value().copied());
    reading(&NODE_GPU_TEMPERATURE, g.temperature_c.value().copied());
    reading(&NODE_GPU_SM_CLOCK, g.sm_clock_mhz.value().map(|m| f64::from(*m) * 1e6));
    reading(&NODE_GPU_MEMORY_CLOCK, g.memory_clock_mhz.value().map(|m| f64::from(*m) * 1e6));
}

fn rapl_metrics(exp: &mut Exposition, at: &Labels, r: &RaplDomain) {
    exp.add(&NODE_RAPL_ENERGY, at.clone(), r.energy_j);
    if let Some(w) = r.power_w {
        exp.add(&NODE_RAPL_POWER, at.clone(), w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MetricsFormat;

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::empty(1_700_000_000_000);
        s.cpu = Reading::from(CpuStats {
            total_pct: 37.5,
            per_core_pct: vec![25.0, 50.0],
            load_avg: [0.5, 0.25, 0.125],
            frequency_mhz: Reading::unavailable("no cpufreq"),
        });
        s.networks = Reading::from(vec![NetStats {
            name: "eth0".into(),
            rx_bytes_total: 1000,
            tx_bytes_total: 2000,
            rx_bps: None,
            tx_bps: None,
            link_speed_mbps: Reading::unavailable("virtual"),
        }]);
        s
    }

    #[test]
    fn available_readings_become_samples_and_unavailable_ones_are_absent() {
        let mut e = Exposition::new();
        node_metrics(&mut e, "local", &snapshot());
        assert_eq!(e.count(&NODE_CPU_UTILIZATION), 1);
        assert_eq!(e.count(&NODE_CPU_CORE_UTILIZATION), 2);
        // Unavailable: frequency, link speed, memory, GPUs, RAPL, pressure.
        for absent in [&NODE_CPU_FREQUENCY, &NODE_NETWORK_SPEED, &NODE_MEMORY_TOTAL, &NODE_GPU_INFO, &NODE_RAPL_ENERGY]
        {
            assert_eq!(e.count(absent), 0, "{}", absent.name);
        }
        let text = e.encode(MetricsFormat::PrometheusText);
        assert!(text.contains("steward_node_cpu_utilization_ratio{node=\"local\"} 0.375\n"), "{text}");
        assert!(text.contains("steward_node_cpu_core_utilization_ratio{node=\"local\",cpu=\"1\"} 0.5\n"), "{text}");
        assert!(text.contains("steward_node_load15{node=\"local\"} 0.125\n"), "{text}");
        assert!(
            text.contains("steward_node_network_receive_bytes_total{node=\"local\",device=\"eth0\"} 1000.0\n"),
            "{text}"
        );
        assert!(!text.contains("memory"), "memory was unavailable: {text}");
    }
}
