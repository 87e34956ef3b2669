//! Space per mounted block-device filesystem (`/proc/mounts` + statvfs); read/write bytes/s,
//! utilization and average queue depth per device (`/proc/diskstats`, whose sector counts are
//! always 512-byte units), computed between samples as `iostat -x` computes %util and aqu-sz.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use steward_core::{DiskStats, Reading, Snapshot};

use crate::sysfs::{rate, read_into, under};
use crate::{Collector, Cost, TelemetryError};

/// `/proc/mounts` escapes space, tab, newline and backslash as octal (`\040`).
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A mounted block-device filesystem: (device name, mount point, fs type).
pub fn parse_mounts(text: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        let (Some(dev), Some(mnt), Some(fs)) = (f.next(), f.next(), f.next()) else { continue };
        // Only real block devices; loop-mounted squashfs (snaps) are read-only images, not disks.
        let Some(name) = dev.strip_prefix("/dev/") else { continue };
        if name.starts_with("loop") || fs == "squashfs" {
            continue;
        }
        let name = name.rsplit('/').next().unwrap_or(name).to_string();
        let mnt = unescape_octal(mnt);
        // Bind mounts repeat a device; keep its shortest (outermost) mount point.
        match out.iter_mut().find(|(d, _, _)| *d == name) {
            Some(e) if mnt.len() < e.1.len() => e.1 = mnt,
            Some(_) => {}
            None => out.push((name, mnt, fs.to_string())),
        }
    }
    out
}

/// One device's cumulative counters in `/proc/diskstats`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiskCounters {
    pub read_sectors: u64,
    pub write_sectors: u64,
    /// Milliseconds spent with I/O in flight (field 10 of the kernel's iostats.rst);
    /// `None` on a line too short to carry it.
    pub io_ticks_ms: Option<u64>,
    /// Milliseconds spent doing I/O weighted by the requests in flight (field 11).
    pub queue_ms: Option<u64>,
}

/// Counters per device in `/proc/diskstats`.
pub fn parse_diskstats(text: &str) -> HashMap<String, DiskCounters> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_ascii_whitespace().collect();
            if f.len() < 10 {
                return None;
            }
            let opt = |i: usize| f.get(i).and_then(|v| v.parse().ok());
            let c = DiskCounters {
                read_sectors: f[5].parse().ok()?,
                write_sectors: f[9].parse().ok()?,
                io_ticks_ms: opt(12),
                queue_ms: opt(13),
            };
            Some((f[2].to_string(), c))
        })
        .collect()
}

/// A busy-time rate between two samples: `scale` × (Δcounter ms per second), or why not.
fn busy_rate(
    prev: Option<&DiskCounters>,
    now: Option<&DiskCounters>,
    dt: Option<i64>,
    field: fn(&DiskCounters) -> Option<u64>,
    scale: f64,
) -> Reading<f64> {
    let (Some(now), Some(dt)) = (now, dt) else {
        return Reading::unavailable(if now.is_none() {
            "device not in /proc/diskstats"
        } else {
            "a rate needs two samples"
        });
    };
    let Some(n) = field(now) else {
        return Reading::unavailable("this kernel's /proc/diskstats has no busy-time fields");
    };
    let Some(p) = prev.and_then(field) else { return Reading::unavailable("a rate needs two samples") };
    match rate(p, n, dt) {
        Some(r) => Reading::from(r * scale),
        None => Reading::unavailable("counter went backwards (device reset)"),
    }
}

/// (total, available-to-unprivileged) bytes of the filesystem at `path`.
pub fn statvfs_space(path: &Path) -> std::io::Result<(u64, u64)> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    // SAFETY: statvfs is plain old data, for which all zeroes is a valid value.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid NUL-terminated path and s is a properly sized out-parameter.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let frsize = s.f_frsize as u64;
    Ok((s.f_blocks as u64 * frsize, s.f_bavail as u64 * frsize))
}

/// Device-mapper volumes (LVM, LUKS) are mounted by their `/dev/mapper` name but counted in
/// `/proc/diskstats` as `dm-N`; `/sys/block/dm-N/dm/name` maps one to the other.
fn device_mapper_names(root: &Path) -> HashMap<String, String> {
    let Ok(dir) = std::fs::read_dir(under(root, "/sys/block")) else { return HashMap::new() };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let dev = e.file_name().to_str()?.to_string();
        if !dev.starts_with("dm-") {
            return None;
        }
        let name = std::fs::read_to_string(e.path().join("dm/name")).ok()?;
        Some((name.trim().to_string(), dev))
    })
    .collect()
}

pub struct DisksCollector {
    root: PathBuf,
    prev: HashMap<String, DiskCounters>,
    prev_ms: Option<i64>,
    buf: String,
    /// Mapper name → `dm-N`, read again when `/proc/diskstats` lists other `dm-N` devices.
    dm: HashMap<String, String>,
}

impl DisksCollector {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DisksCollector {
            root: root.into(),
            prev: HashMap::new(),
            prev_ms: None,
            buf: String::new(),
            dm: HashMap::new(),
        }
    }

    /// The name `/proc/diskstats` counts a mounted device under.
    fn counted_as<'a>(&mut self, name: &'a str, io: &HashMap<String, DiskCounters>) -> std::borrow::Cow<'a, str> {
        if io.contains_key(name) {
            return name.into();
        }
        // A name that is no mapper volume (`/dev/root`) misses every sample: sysfs is read
        // again only when the volumes themselves changed.
        let volumes = io.keys().filter(|k| k.starts_with("dm-")).count();
        if !self.dm.contains_key(name) && volumes != self.dm.len() {
            self.dm = device_mapper_names(&self.root);
        }
        self.dm.get(name).map_or(name.into(), |dev| dev.clone().into())
    }

    fn sample(&mut self, now_ms: i64) -> Result<Vec<DiskStats>, TelemetryError> {
        let mounts_path = under(&self.root, "/proc/mounts");
        read_into(&mounts_path, &mut self.buf)?;
        let mounts = parse_mounts(&self.buf);
        // diskstats is optional (containers may hide it): space is still worth reporting.
        let (io, io_err) = match read_into(&under(&self.root, "/proc/diskstats"), &mut self.buf) {
            Ok(()) => (parse_diskstats(&self.buf), None),
            Err(e) => (HashMap::new(), Some(e.to_string())),
        };
        let dt = self.prev_ms.map(|p| now_ms - p);
        let mut out = Vec::with_capacity(mounts.len());
        for (name, mount_point, file_system) in mounts {
            let Ok((total, avail)) = statvfs_space(&under(&self.root, &mount_point)) else { continue };
            let counted = if io_err.is_none() { self.counted_as(&name, &io) } else { name.as_str().into() };
            let (now, prev) = (io.get(counted.as_ref()), self.prev.get(counted.as_ref()));
            let (read_bps, write_bps) = match (now, prev, dt) {
                (Some(c), Some(p), Some(dt)) => (
                    rate(p.read_sectors * 512, c.read_sectors * 512, dt),
                    rate(p.write_sectors * 512, c.write_sectors * 512, dt),
                ),
                _ => (None, None),
            };
            // io_ticks ms per second / 10 = percent; it can overshoot 100 by accounting jitter.
            let (util_pct, queue_depth) = match &io_err {
                Some(e) => (Reading::unavailable(e.clone()), Reading::unavailable(e.clone())),
                None => (
                    busy_rate(prev, now, dt, |c| c.io_ticks_ms, 0.1).map(|u| u.min(100.0)),
                    busy_rate(prev, now, dt, |c| c.queue_ms, 0.001),
                ),
            };
            out.push(DiskStats {
                name,
                mount_point,
                file_system,
                total_bytes: total,
                available_bytes: avail,
                read_bps,
                write_bps,
                util_pct,
                queue_depth,
            });
        }
        self.prev = io;
        self.prev_ms = Some(now_ms);
        Ok(out)
    }
}

impl Collector for DisksCollector {
    fn name(&self) -> &'static str {
        "disks"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot) {
        snap.disks = match self.sample(now_ms) {
            Ok(v) if v.is_empty() => Reading::unavailable("no mounted block-device filesystems visible"),
            r => r.into(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn mounts_keep_block_devices_once() {
        let text = std::fs::read_to_string(fixture("x86_64_a/proc/mounts")).unwrap();
        assert_eq!(
            parse_mounts(&text),
            vec![
                ("nvme0n1p2".into(), "/".into(), "ext4".into()),
                ("nvme0n1p1".into(), "/boot/efi".into(), "vfat".into()),
                ("sda1".into(), "/mnt/data disk".into(), "xfs".into()),
            ]
        );
    }

    #[test]
    fn diskstats_sectors() {
        let text = std::fs::read_to_string(fixture("x86_64_a/proc/diskstats")).unwrap();
        let m = parse_diskstats(&text);
        let c = m["nvme0n1p2"];
        assert_eq!((c.read_sectors, c.write_sectors), (13355332, 29313662));
        assert_eq!((c.io_ticks_ms, c.queue_ms), (Some(282356), Some(500349)));
        assert_eq!((m["sda1"].read_sectors, m["sda1"].write_sectors), (409854, 262144));
        assert_eq!(m.len(), 6);
        // A pre-2.6.25-style short line still gives throughput, but no busy time.
        let short = parse_diskstats("8 0 sdb 1 0 16 0 2 0 32");
        assert_eq!(
            short["sdb"],
            DiskCounters { read_sectors: 16, write_sectors: 32, io_ticks_ms: None, queue_ms: None }
        );
    }

    #[test]
    fn rates_from_two_samples() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("proc")).unwrap();
        std::fs::create_dir_all(root.join("boot/efi")).unwrap();
        std::fs::create_dir_all(root.join("mnt/data disk")).unwrap();
        std::fs::copy(fixture("x86_64_a/proc/mounts"), root.join("proc/mounts")).unwrap();
        let stats = std::fs::read_to_string(fixture("x86_64_a/proc/diskstats")).unwrap();
        std::fs::write(root.join("proc/diskstats"), &stats).unwrap();
        let mut c = DisksCollector::new(root);
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        let v = snap.disks.value().unwrap().clone();
        assert_eq!(v.len(), 3);
        assert!(v[0].total_bytes > 0 && v[0].total_bytes >= v[0].available_bytes);
        assert_eq!((v[0].read_bps, v[0].write_bps), (None, None));
        assert!(v[0].util_pct.reason().unwrap().contains("two samples"));
        // +2048 sectors read (1 MiB) and +4096 written on sda1 over 4 s, busy 3.6 s of the 4
        // (90 %) with 8 s of request time (2 requests in flight on average).
        let stats = stats.replace(
            "4930 1201 409854 2790 1024 501 262144 1922 0 5190 4712",
            "4930 1201 411902 2790 1024 501 266240 1922 0 8790 12712",
        );
        std::fs::write(root.join("proc/diskstats"), &stats).unwrap();
        c.collect(4_000, &mut snap);
        let v = snap.disks.value().unwrap().clone();
        let sda = v.iter().find(|d| d.name == "sda1").unwrap();
        assert_eq!(sda.mount_point, "/mnt/data disk");
        assert_eq!((sda.read_bps, sda.write_bps), (Some(262144.0), Some(524288.0)));
        assert_eq!(sda.util_pct, Reading::from(90.0));
        assert_eq!(sda.queue_depth, Reading::from(2.0));
        assert_eq!(v[0].read_bps, Some(0.0));
        assert_eq!((v[0].util_pct.value(), v[0].queue_depth.value()), (Some(&0.0), Some(&0.0)));

        // diskstats hidden (a container): space stays, busy time says why it is missing.
        std::fs::remove_file(root.join("proc/diskstats")).unwrap();
        c.collect(8_000, &mut snap);
        let v = snap.disks.value().unwrap().clone();
        assert_eq!(v.len(), 3);
        assert!(v[0].util_pct.reason().unwrap().contains("diskstats"), "{:?}", v[0].util_pct);
        assert_eq!(v[0].read_bps, None);
    }

    #[test]
    fn device_mapper_volumes_are_counted_under_their_dm_device() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["proc", "sys/block/dm-0/dm", "sys/block/dm-1/dm", "sys/block/vda"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("proc/mounts"), "/dev/mapper/vg-root / ext4 rw 0 0\n").unwrap();
        std::fs::write(root.join("sys/block/dm-0/dm/name"), "vg-swap\n").unwrap();
        std::fs::write(root.join("sys/block/dm-1/dm/name"), "vg-root\n").unwrap();
        let line = |ticks: u64| {
            format!(" 252 0 dm-0 1 0 8 0 1 0 8 0 0 0 0\n 252 1 dm-1 10 0 80 5 20 0 160 9 0 {ticks} {ticks}\n")
        };
        std::fs::write(root.join("proc/diskstats"), line(1000)).unwrap();
        let mut c = DisksCollector::new(root);
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        std::fs::write(root.join("proc/diskstats"), line(1500)).unwrap();
        c.collect(1_000, &mut snap);
        let v = snap.disks.value().unwrap().clone();
        assert_eq!((v[0].name.as_str(), v[0].mount_point.as_str()), ("vg-root", "/"));
        assert_eq!(v[0].util_pct, Reading::from(50.0), "dm-1's busy time, not dm-0's");
    }

    #[test]
    fn no_mounts_is_unavailable() {
        let mut snap = Snapshot::empty(0);
        DisksCollector::new(fixture("empty")).collect(0, &mut snap);
        assert!(snap.disks.reason().unwrap().contains("mounts"));
    }
}
