//! Which process holds a socket: `/proc/<pid>/fd/*` links read `socket:[<inode>]`.
//!
//! Reading every process's fd links is the expensive part of attributing traffic, so owners are
//! cached by inode for as long as the socket lives, and `/proc` is scanned only for busy sockets
//! not yet known, at most once per scan interval.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::processes::parse_pid_stat;
use crate::sysfs::{read_string, under};

/// A process instance: pid and start time (clock ticks after boot), as the process table keys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub start_ticks: u64,
}

/// The inode of a `socket:[<inode>]` fd link target.
pub fn parse_socket_link(target: &str) -> Option<u64> {
    target.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

pub struct Owners {
    root: PathBuf,
    /// `None`: looked for and not found (another user's process we may not read, or a socket
    /// of another network namespace): not looked for again while the socket lives.
    known: HashMap<u64, Option<Owner>>,
    last_scan_ms: Option<i64>,
}

impl Owners {
    pub fn new(root: impl Into<PathBuf>) -> Owners {
        Owners { root: root.into(), known: HashMap::new(), last_scan_ms: None }
    }

    pub fn get(&self, inode: u64) -> Option<Owner> {
        self.known.get(&inode).copied().flatten()
    }

    /// Forget sockets that are gone (`live` says which are not), so a reused inode is looked up
    /// again.
    pub fn retain_live(&mut self, live: impl Fn(u64) -> bool) {
        self.known.retain(|inode, _| live(*inode));
    }

    /// Forget a process's sockets (it exited, or its pid now names another process): they are
    /// looked up again if still busy, e.g. when a child inherited them.
    pub fn forget_pid(&mut self, pid: u32) {
        self.known.retain(|_, o| o.is_none_or(|o| o.pid != pid));
    }

    /// Look up the owners of `busy` inodes not known yet, scanning `/proc` unless the last scan
    /// was under `interval_ms` ago. Returns whether it scanned.
    pub fn resolve(&mut self, busy: impl IntoIterator<Item = u64>, now_ms: i64, interval_ms: i64) -> bool {
        let mut wanted: HashSet<u64> = busy.into_iter().filter(|i| !self.known.contains_key(i)).collect();
        if wanted.is_empty() || self.last_scan_ms.is_some_and(|t| now_ms - t < interval_ms) {
            return false;
        }
        self.last_scan_ms = Some(now_ms);
        let found = self.scan(&wanted);
        for (inode, owner) in found {
            wanted.remove(&inode);
            self.known.insert(inode, Some(owner));
        }
        self.known.extend(wanted.into_iter().map(|inode| (inode, None)));
        true
    }

    /// Walk `/proc/<pid>/fd` until every wanted inode is found (or every process was read).
    fn scan(&self, wanted: &HashSet<u64>) -> HashMap<u64, Owner> {
        let mut found = HashMap::new();
        let Ok(procs) = std::fs::read_dir(under(&self.root, "/proc")) else { return found };
        for entry in procs.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            // Other users' fds are unreadable without privileges: skipped.
            let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else { continue };
            let mine: Vec<u64> = fds
                .flatten()
                .filter_map(|fd| parse_socket_link(std::fs::read_link(fd.path()).ok()?.to_str()?))
                .filter(|inode| wanted.contains(inode) && !found.contains_key(inode))
                .collect();
            if mine.is_empty() {
                continue;
            }
            // The start time tells this process from a later one reusing its pid.
            let stat = read_string(&under(&self.root, &format!("/proc/{pid}/stat"))).ok();
            let Some(start_ticks) = stat.as_deref().and_then(parse_pid_stat).map(|(_, s)| s.start_ticks) else {
                continue;
            };
            found.extend(mine.into_iter().map(|inode| (inode, Owner { pid, start_ticks })));
            if found.len() == wanted.len() {
                break;
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_socket_links_only() {
        assert_eq!(parse_socket_link("socket:[123456]"), Some(123456));
        assert_eq!(parse_socket_link("pipe:[123456]"), None);
        assert_eq!(parse_socket_link("/dev/null"), None);
        assert_eq!(parse_socket_link("socket:[12x]"), None);
    }

    /// A fake /proc with `pid` holding socket `inode` at fd 3.
    fn fake_proc(dir: &std::path::Path, pid: u32, start: u64, inode: u64) {
        let p = dir.join(format!("proc/{pid}"));
        std::fs::create_dir_all(p.join("fd")).unwrap();
        let stat = format!("{pid} (srv) S 1 1 1 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0 {start} 1000 50 0");
        std::fs::write(p.join("stat"), stat).unwrap();
        std::os::unix::fs::symlink(format!("socket:[{inode}]"), p.join("fd/3")).unwrap();
    }

    #[test]
    fn scans_for_unknown_busy_sockets_at_most_once_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        fake_proc(dir.path(), 42, 777, 1001);
        let mut o = Owners::new(dir.path());
        assert!(o.resolve([1001, 1002], 0, 5000));
        assert_eq!(o.get(1001), Some(Owner { pid: 42, start_ticks: 777 }));
        assert_eq!(o.get(1002), None);
        // Both are known now (1002 as not found): no scan, however soon.
        assert!(!o.resolve([1001, 1002], 1000, 5000));
        // A new socket appears; the next scan waits for the interval.
        fake_proc(dir.path(), 43, 778, 1003);
        assert!(!o.resolve([1003], 1000, 5000));
        assert_eq!(o.get(1003), None);
        assert!(o.resolve([1003], 5000, 5000));
        assert_eq!(o.get(1003).map(|o| o.pid), Some(43));
    }

    #[test]
    fn gone_sockets_and_exited_owners_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        fake_proc(dir.path(), 42, 777, 1001);
        fake_proc(dir.path(), 43, 778, 1003);
        let mut o = Owners::new(dir.path());
        o.resolve([1001, 1003], 0, 5000);
        o.retain_live(|inode| inode == 1003);
        assert!(!o.known.contains_key(&1001));
        o.forget_pid(43);
        assert!(o.known.is_empty());
    }
}
