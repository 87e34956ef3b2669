//! Counters of one module's processes and their threads, for an on-demand deep profile.
//!
//! Only the module's processes are read at the profile's rate: `/proc/<pid>/{stat,io}` and
//! `/proc/<pid>/task/*/stat`. Membership (which processes match) needs the whole table, so it is
//! rescanned at most once a second, and a process's identity is read once per instance.

use std::collections::HashMap;
use std::path::PathBuf;

use steward_core::ProcessStats;
use steward_core::profile::deep::{ProcessCounters, ThreadCounters};

use crate::TelemetryError;
use crate::processes::{Info, page_size, parse_pid_io, parse_pid_stat, read_users};
use crate::sysfs::{read_into, under};

/// How often the whole process table is rescanned for new members.
const RESCAN_MS: i64 = 1_000;

/// Every thread of `pid` with its CPU ticks, from `<root>/proc/<pid>/task/*/stat`. Threads that
/// exit while being read are skipped; an unreadable task directory gives no threads.
pub fn read_threads(root: &std::path::Path, pid: u32, buf: &mut String) -> Vec<ThreadCounters> {
    let dir = under(root, &format!("/proc/{pid}/task"));
    let Ok(rd) = std::fs::read_dir(&dir) else { return vec![] };
    let mut out: Vec<ThreadCounters> = rd
        .filter_map(|e| {
            let tid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            read_into(&dir.join(format!("{tid}/stat")), buf).ok()?;
            let (name, stat) = parse_pid_stat(buf)?;
            Some(ThreadCounters { tid, name: name.to_string(), cpu_ticks: stat.cpu_ticks })
        })
        .collect();
    out.sort_by_key(|t| t.tid);
    out
}

pub struct ModuleSampler {
    root: PathBuf,
    page_size: u64,
    last_scan_ms: Option<i64>,
    /// Process instances (pid, start ticks) of the module, from the last rescan.
    members: Vec<(u32, u64)>,
    /// Whether a process instance matched, so identities are read once.
    decided: HashMap<(u32, u64), bool>,
    users: Option<HashMap<u32, String>>,
    buf: String,
}

impl ModuleSampler {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ModuleSampler {
            root: root.into(),
            page_size: page_size(),
            last_scan_ms: None,
            members: vec![],
            decided: HashMap::new(),
            users: None,
            buf: String::new(),
        }
    }

    fn rescan(&mut self, matches: &dyn Fn(&ProcessStats) -> bool) -> Result<(), TelemetryError> {
        let proc_dir = under(&self.root, "/proc");
        let rd = std::fs::read_dir(&proc_dir).map_err(|e| TelemetryError::io(proc_dir.clone(), e))?;
        let pids: Vec<u32> = rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
        let users = self.users.get_or_insert_with(|| read_users(&self.root));
        let mut members = Vec::new();
        let mut decided = HashMap::with_capacity(pids.len());
        for pid in pids {
            if read_into(&under(&self.root, &format!("/proc/{pid}/stat")), &mut self.buf).is_err() {
                continue;
            }
            let Some((name, stat)) = parse_pid_stat(&self.buf) else { continue };
            let key = (pid, stat.start_ticks);
            let hit = match self.decided.get(&key) {
                Some(&hit) => hit,
                None => matches(&Info::read(&self.root, pid, name, users).as_stats(pid)),
            };
            decided.insert(key, hit);
            if hit {
                members.push(key);
            }
        }
        self.decided = decided;
        self.members = members;
        Ok(())
    }

    /// Counters of every process `matches` picks out, with their threads.
    pub fn sample(
        &mut self,
        now_ms: i64,
        matches: &dyn Fn(&ProcessStats) -> bool,
    ) -> Result<Vec<ProcessCounters>, TelemetryError> {
        if self.last_scan_ms.is_none_or(|t| now_ms - t >= RESCAN_MS) {
            self.rescan(matches)?;
            self.last_scan_ms = Some(now_ms);
        }
        let mut out = Vec::with_capacity(self.members.len());
        for &(pid, start) in &self.members {
            if read_into(&under(&self.root, &format!("/proc/{pid}/stat")), &mut self.buf).is_err() {
                continue;
            }
            // A member that exited (or whose pid was reused) is dropped until the next rescan.
            let Some((name, stat)) = parse_pid_stat(&self.buf).filter(|(_, s)| s.start_ticks == start) else {
                continue;
            };
            let name = name.to_string();
            let io = read_into(&under(&self.root, &format!("/proc/{pid}/io")), &mut self.buf)
                .ok()
                .and_then(|()| parse_pid_io(&self.buf));
            let threads = read_threads(&self.root, pid, &mut self.buf);
            out.push(ProcessCounters {
                pid,
                name,
                start_ticks: start,
                cpu_ticks: stat.cpu_ticks,
                rss_bytes: stat.rss_pages * self.page_size,
                io,
                threads,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn threads_of_a_fixture_process() {
        let mut buf = String::new();
        let t = read_threads(&fixture("x86_64_a"), 4321, &mut buf);
        let got: Vec<(u32, &str, u64)> = t.iter().map(|t| (t.tid, t.name.as_str(), t.cpu_ticks)).collect();
        // The main thread, a data loader whose name holds a space and parentheses, and an idle one.
        assert_eq!(
            got,
            vec![(4321, "python3", 100 + 20), (4322, "pt_data (0)", 119_000 + 2_900), (4330, "python3", 0)]
        );
        assert!(read_threads(&fixture("x86_64_a"), 1234, &mut buf).is_empty(), "no task directory: no threads");
    }

    #[test]
    fn samples_only_the_module_with_threads() {
        let mut s = ModuleSampler::new(fixture("x86_64_a"));
        s.page_size = 4096;
        let py = s.sample(0, &|p: &ProcessStats| p.command.starts_with("python3 train.py")).unwrap();
        assert_eq!(py.len(), 1);
        let p = &py[0];
        assert_eq!(
            (p.pid, p.name.as_str(), p.cpu_ticks, p.rss_bytes, p.io),
            (4321, "python3", 120_033 + 3_001, 262_144 * 4096, None)
        );
        assert_eq!(p.threads.len(), 3);
        assert!(s.sample(0, &|_: &ProcessStats| false).unwrap().len() == 1, "membership is kept until the next rescan");
        assert!(ModuleSampler::new(fixture("empty")).sample(0, &|_: &ProcessStats| true).is_err());
    }
}
