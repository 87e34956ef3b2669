//! The process count and the busiest processes (by CPU and by memory) from sysinfo.

use std::collections::HashSet;

use steward_core::{ProcessStats, ProcessTable, Reading, Snapshot};
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, ThreadKind, UpdateKind};

use crate::{Collector, Cost};

pub struct PortableProcesses {
    system: Result<System, String>,
    top_n: usize,
    prev_ms: Option<i64>,
}

impl PortableProcesses {
    pub fn new(top_n: usize) -> Self {
        PortableProcesses { system: System::new().map_err(|e| super::unopened("processes", e)), top_n, prev_ms: None }
    }

    fn sample(&mut self, now_ms: i64) -> Reading<ProcessTable> {
        let system = match &mut self.system {
            Ok(s) => s,
            Err(why) => return Reading::unavailable(why.clone()),
        };
        let kind = ProcessRefreshKind::nothing()
            .with_cpu()
            .with_memory()
            .with_disk_usage()
            .with_exe(UpdateKind::OnlyIfNotSet)
            .with_cmd(UpdateKind::OnlyIfNotSet);
        system.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
        let dt = self.prev_ms.replace(now_ms).map(|p| now_ms - p).filter(|dt| *dt > 0);
        // User threads may be listed as processes on Linux: they are not counted (kernel threads
        // are processes in /proc, and counted there too).
        let procs: Vec<&sysinfo::Process> =
            system.processes().values().filter(|p| p.thread_kind() != Some(ThreadKind::Userland)).collect();
        let ranked = |key: fn(&sysinfo::Process) -> f64| {
            let mut v: Vec<&&sysinfo::Process> = procs.iter().collect();
            v.sort_by(|a, b| key(b).total_cmp(&key(a)));
            v.into_iter().take(self.top_n).map(|p| p.pid().as_u32()).collect::<Vec<_>>()
        };
        let mut top: HashSet<u32> = ranked(|p| f64::from(p.cpu_usage())).into_iter().collect();
        top.extend(ranked(|p| p.memory() as f64));
        let per_s = |bytes: u64| dt.map(|dt| bytes as f64 * 1000.0 / dt as f64);
        let mut stats: Vec<ProcessStats> = procs
            .iter()
            .filter(|p| top.contains(&p.pid().as_u32()))
            .map(|p| {
                let io = p.disk_usage();
                ProcessStats {
                    pid: p.pid().as_u32(),
                    name: p.name().to_string_lossy().into_owned(),
                    command: p.cmd().iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" "),
                    user: None,
                    cpu_pct: f64::from(p.cpu_usage()),
                    rss_bytes: p.memory(),
                    read_bps: per_s(io.read_bytes),
                    write_bps: per_s(io.written_bytes),
                    exe: p.exe().map(|e| e.to_string_lossy().into_owned()),
                    cgroup: None,
                    net: Vec::new(),
                }
            })
            .collect();
        stats.sort_by(|a, b| b.cpu_pct.total_cmp(&a.cpu_pct));
        Reading::from(ProcessTable { count: procs.len() as u32, top: stats })
    }
}

impl Collector for PortableProcesses {
    fn name(&self) -> &'static str {
        "processes"
    }
    fn cost(&self) -> Cost {
        Cost::Expensive
    }
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot) {
        snap.processes = self.sample(now_ms);
    }
}
