//! On Linux both backends can run on the same machine: the portable one (sysinfo) must tell the
//! same story as /proc and /sys — CPU, memory, file systems, interfaces and processes — within
//! what two reads a moment apart can differ by.
#![cfg(target_os = "linux")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use steward_core::Snapshot;
use steward_telemetry::{Backend, Sampler, SamplerConfig};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Both backends' second snapshots (rates need two), taken side by side a second apart.
fn side_by_side() -> (Snapshot, Snapshot) {
    let config = |backend| SamplerConfig { backend, gpus: false, ..SamplerConfig::default() };
    let mut procfs = Sampler::new(&config(Backend::Procfs));
    let mut portable = Sampler::new(&config(Backend::Portable));
    let t0 = now_ms();
    procfs.tick(t0);
    portable.tick(t0);
    std::thread::sleep(Duration::from_millis(1000));
    let t1 = now_ms();
    (procfs.tick(t1), portable.tick(t1))
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

#[test]
fn the_portable_backend_agrees_with_procfs_on_this_machine() {
    let (native, portable) = side_by_side();

    let (nc, pc) = (native.cpu.value().expect("procfs CPU"), portable.cpu.value().expect("portable CPU"));
    assert_eq!(nc.per_core_pct.len(), pc.per_core_pct.len(), "core count");
    // The same second, read a moment apart on a machine others share.
    assert!(close(nc.total_pct, pc.total_pct, 30.0), "CPU {} % vs {} %", nc.total_pct, pc.total_pct);
    assert!(close(nc.load_avg[0], pc.load_avg[0], 1.0), "load {:?} vs {:?}", nc.load_avg, pc.load_avg);

    let (nm, pm) = (native.memory.value().expect("procfs memory"), portable.memory.value().expect("portable memory"));
    assert!(close(nm.total_bytes as f64, pm.total_bytes as f64, nm.total_bytes as f64 * 0.01), "{nm:?} vs {pm:?}");
    let slack = nm.total_bytes as f64 * 0.05;
    assert!(close(nm.available_bytes as f64, pm.available_bytes as f64, slack), "{nm:?} vs {pm:?}");
    assert_eq!(nm.swap_total_bytes, pm.swap_total_bytes, "swap");

    let (nd, pd) = (native.disks.value().expect("procfs disks"), portable.disks.value().expect("portable disks"));
    let shared: Vec<_> =
        pd.iter().filter_map(|p| Some((p, nd.iter().find(|n| n.mount_point == p.mount_point)?))).collect();
    assert!(!shared.is_empty(), "no file system in common: {nd:?} vs {pd:?}");
    for (p, n) in shared {
        assert_eq!(p.total_bytes, n.total_bytes, "size of {}", p.mount_point);
        // Free space moves while others write (builds beside this test): 1 % of the size, ≥ 256 MB.
        let slack = (n.total_bytes as f64 * 0.01).max(256e6);
        let (pa, na) = (p.available_bytes, n.available_bytes);
        assert!(close(pa as f64, na as f64, slack), "free space of {}: {pa} vs {na}", p.mount_point);
    }

    let (nn, pn) = (native.networks.value().expect("procfs network"), portable.networks.value().expect("portable net"));
    for n in nn {
        let p = pn.iter().find(|p| p.name == n.name).unwrap_or_else(|| panic!("{} missing: {pn:?}", n.name));
        // Counters read a moment apart: they may have moved by what a second carries.
        assert!(close(p.rx_bytes_total as f64, n.rx_bytes_total as f64, 50e6), "{}: {p:?} vs {n:?}", n.name);
        assert!(close(p.tx_bytes_total as f64, n.tx_bytes_total as f64, 50e6), "{}: {p:?} vs {n:?}", n.name);
    }

    let (np, pp) = (native.processes.value().expect("procfs processes"), portable.processes.value().expect("ps"));
    let slack = f64::from(np.count) * 0.1 + 10.0;
    assert!(close(f64::from(np.count), f64::from(pp.count), slack), "{} vs {} processes", np.count, pp.count);
    assert!(!pp.top.is_empty(), "the busiest processes are listed");

    for (what, reason) in [
        ("pressure", portable.pressure.reason()),
        ("RAPL", portable.rapl.reason()),
        ("cpufreq", portable.cpufreq.reason()),
    ] {
        assert!(reason.is_some_and(|r| r.contains("portable")), "{what} says why it is missing: {reason:?}");
    }
}
