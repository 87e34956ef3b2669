//! IO: tasks stalled waiting for storage (PSI io), and devices saturated by their own numbers
//! (utilization and average queue depth, as `iostat -x` computes %util and aqu-sz).

use std::collections::BTreeSet;

use crate::profile::finding::{Evidence, Finding, Resource};
use crate::profile::window::Context;

pub const KEY: &str = "io";

/// A device's window means: utilization and queue depth, with their sample counts.
struct Busy {
    name: String,
    util: (f64, u32),
    queue: (f64, u32),
}

/// Whether a device serves many requests at once. %util only says "never idle": a disk that
/// serves one request at a time is full at 100 %, but an NVMe drive (dozens of hardware queues)
/// or an md array (several disks) at 100 % with a queue of a few requests may still have most of
/// its throughput to spare. Their numbers are shown as evidence, never a finding on their own:
/// for them it takes PSI io (tasks actually waiting) to say storage limits.
fn parallelises(device: &str) -> bool {
    device.starts_with("nvme") || device.starts_with("md")
}

/// Devices whose mean utilization and queue both reach their lines over the window.
fn busy_devices(ctx: &Context, active: bool) -> Vec<Busy> {
    let t = ctx.thresholds;
    let names: BTreeSet<&str> =
        ctx.samples.iter().filter_map(|s| s.disks.value()).flatten().map(|d| d.name.as_str()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let of = |f: fn(&crate::DiskStats) -> Option<f64>| {
                ctx.mean(|s| s.disks.value()?.iter().find(|d| d.name == name).and_then(f))
            };
            let util = of(|d| d.util_pct.value().copied())?;
            let queue = of(|d| d.queue_depth.value().copied())?;
            let busy = util.0 >= t.above(t.disk_util_pct, active) && queue.0 >= t.above(t.disk_queue_depth, active);
            busy.then(|| Busy { name: name.to_string(), util, queue })
        })
        .collect()
}

pub fn pressure(ctx: &Context) -> Option<Finding> {
    let t = ctx.thresholds;
    let active = ctx.is_active(KEY);
    let line = t.above(t.io_psi_some_pct, active);
    let some = ctx.mean(|s| s.pressure.value()?.io.value().map(|r| r.some.avg10));
    let stalled = some.is_some_and(|(v, _)| v >= line);
    let busy = busy_devices(ctx, active);
    let saturated: Vec<&Busy> = busy.iter().filter(|b| !parallelises(&b.name)).collect();
    if !stalled && saturated.is_empty() {
        return None;
    }
    let mut evidence: Vec<Evidence> = Vec::new();
    if let Some((v, n)) = some {
        evidence.push(ctx.evidence("psi.io.some avg10 mean", v, line, "%", n));
    }
    let full = ctx.mean(|s| s.pressure.value()?.io.value()?.full.map(|f| f.avg10));
    let critical = full.is_some_and(|(f, _)| f >= line / 2.0);
    if let Some((f, n)) = full {
        evidence.push(ctx.evidence("psi.io.full avg10 mean", f, line / 2.0, "%", n));
    }
    // Busy parallel devices only add context to stalls; saturated ones stand on their own.
    for b in busy.iter().filter(|b| stalled || !parallelises(&b.name)) {
        evidence.push(ctx.evidence(
            format!("disk.{}.util mean", b.name),
            b.util.0,
            t.above(t.disk_util_pct, active),
            "%",
            b.util.1,
        ));
        let q = t.above(t.disk_queue_depth, active);
        evidence.push(ctx.evidence(format!("disk.{}.queue mean", b.name), b.queue.0, q, "requests", b.queue.1));
    }
    let total = ctx.mean(|s| {
        let d = s.disks.value()?;
        Some(d.iter().map(|d| d.read_bps.unwrap_or(0.0) + d.write_bps.unwrap_or(0.0)).sum())
    });
    let culprits =
        ctx.culprits(|p| p.read_bps.unwrap_or(0.0) + p.write_bps.unwrap_or(0.0), total.map_or(0.0, |x| x.0), "B/s");
    let who = culprits.first().map(|c| format!(", mostly {} (PID {})", c.name, c.pid)).unwrap_or_default();
    let summary = match saturated.first() {
        Some(b) => {
            format!("Disk {} is saturated ({:.0} % busy, {:.1} requests in flight){who}", b.name, b.util.0, b.queue.0)
        }
        None => format!("Tasks are waiting on storage{who}"),
    };
    let signals = usize::from(stalled) + usize::from(!saturated.is_empty());
    Some(Finding {
        key: KEY.into(),
        resource: Resource::Io,
        severity: super::severity(signals, critical),
        summary,
        culprits,
        evidence,
        since_ms: ctx.to_ms(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::profile::{Severity, Thresholds};
    use crate::{DiskStats, Pressure, ProcessStats, ProcessTable, PsiLine, PsiResource, Reading};

    fn psi_io(some: f64, full: f64) -> Reading<Pressure> {
        let l = |v| PsiLine { avg10: v, avg60: v, avg300: v, total_us: 0 };
        Pressure {
            cpu: Reading::unavailable("x"),
            memory: Reading::unavailable("x"),
            io: PsiResource { some: l(some), full: Some(l(full)) }.into(),
        }
        .into()
    }

    #[test]
    fn stalled_io_names_the_writer() {
        let w = window(5, |_, s| {
            s.pressure = psi_io(50.0, 30.0);
            let writer = ProcessStats { write_bps: Some(5e8), ..proc(11, "dd", 10.0, 1) };
            s.processes = ProcessTable { count: 1, top: vec![writer] }.into();
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].culprits[0].pid, 11);
    }

    #[test]
    fn light_io_does_not_fire() {
        let w = window(5, |_, s| s.pressure = psi_io(5.0, 1.0));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
    }

    fn disk(name: &str, util: f64, queue: f64) -> DiskStats {
        DiskStats {
            name: name.into(),
            mount_point: "/".into(),
            file_system: "ext4".into(),
            total_bytes: 1,
            available_bytes: 1,
            read_bps: Some(1e8),
            write_bps: None,
            util_pct: util.into(),
            queue_depth: queue.into(),
        }
    }

    fn disks(v: Vec<DiskStats>) -> Reading<Vec<DiskStats>> {
        v.into()
    }

    #[test]
    fn saturated_disk_fires_without_psi() {
        // No PSI at all (an old kernel): the device's own numbers are the evidence.
        let w = window(5, |_, s| s.disks = disks(vec![disk("sda1", 96.0, 3.5), disk("sdb1", 10.0, 0.1)]));
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].summary.contains("sda1 is saturated"), "{}", f[0].summary);
        let metrics: Vec<_> = f[0].evidence.iter().map(|e| (e.metric.as_str(), e.value)).collect();
        assert_eq!(metrics, vec![("disk.sda1.util mean", 96.0), ("disk.sda1.queue mean", 3.5)]);
    }

    #[test]
    fn busy_without_a_queue_does_not_fire() {
        // One sequential reader keeps the disk busy but nobody waits behind it.
        let w = window(5, |_, s| s.disks = disks(vec![disk("sda1", 99.0, 1.0)]));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
    }

    #[test]
    fn busy_nvme_alone_does_not_fire_but_backs_a_stall() {
        let w = window(5, |_, s| s.disks = disks(vec![disk("nvme0n1p2", 100.0, 6.0)]));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty(), "util on a parallel device is not saturation");
        let w = window(5, |_, s| {
            s.disks = disks(vec![disk("nvme0n1p2", 100.0, 6.0)]);
            s.pressure = psi_io(45.0, 5.0);
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].summary.starts_with("Tasks are waiting"), "{}", f[0].summary);
        assert!(f[0].evidence.iter().any(|e| e.metric == "disk.nvme0n1p2.util mean"));
    }

    #[test]
    fn stall_and_saturation_together_are_critical() {
        let w = window(5, |_, s| {
            s.disks = disks(vec![disk("vda", 97.0, 4.0)]);
            s.pressure = psi_io(40.0, 2.0);
        });
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f[0].severity, Severity::Critical);
    }

    #[test]
    fn saturation_uses_exit_threshold_while_active() {
        let w = window(5, |_, s| s.disks = disks(vec![disk("sda", 85.0, 2.0)]));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty(), "85 % is under the 90 % entry line");
        assert_eq!(run(&w, &Thresholds::default(), &["io"]).len(), 1, "but over the 81 % exit line");
    }

    #[test]
    fn unknown_busy_time_is_not_evidence() {
        let w = window(5, |i, s| {
            let mut d = disk("sda", 99.0, 5.0);
            // Known in only two samples of five: fewer than min_samples.
            if i > 1 {
                d.util_pct = Reading::unavailable("a rate needs two samples");
            }
            s.disks = disks(vec![d]);
        });
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
    }
}
