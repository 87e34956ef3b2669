//! Top processes by CPU and by memory from `/proc/<pid>/{stat,io,status,cmdline}`.
//!
//! Cheap by construction: the whole table is rescanned (one `stat` read per process) only every
//! `full_interval_ms` (the policy's expensive interval); in between only the tracked top PIDs are
//! re-read. Names, commands and users are cached per process instance (pid + start time).
//!
//! On the live system (root `/`), while a link is busy (`socket_traffic::links_busy`), rows also
//! carry TCP rates per interface, and the busiest network processes join the table even when CPU
//! and memory would not rank them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use steward_core::{NetStats, ProcessStats, ProcessTable, Reading, Snapshot};

use crate::sampler::{Mode, interval_ms};
use crate::socket_traffic::{ProcessTraffic, SocketTraffic, links_busy};
use crate::sysfs::{rate, read_into, read_string, under};
use crate::{Collector, Cost, TelemetryError};

/// The fields of `/proc/<pid>/stat` we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PidStat {
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    /// Start time after boot in clock ticks: with the pid, identifies a process instance.
    pub start_ticks: u64,
    pub rss_pages: u64,
}

/// Parse `/proc/<pid>/stat`; the command name may contain spaces and parentheses, so fields are
/// counted from the last `)`. Returns the name too.
pub fn parse_pid_stat(text: &str) -> Option<(&str, PidStat)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?;
    let f: Vec<&str> = text.get(close + 1..)?.split_ascii_whitespace().collect();
    let n = |i: usize| f.get(i)?.parse::<u64>().ok();
    Some((name, PidStat { cpu_ticks: n(11)? + n(12)?, start_ticks: n(19)?, rss_pages: n(21)? }))
}

/// `read_bytes` and `write_bytes` (storage I/O) from `/proc/<pid>/io`.
pub fn parse_pid_io(text: &str) -> Option<(u64, u64)> {
    let field = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)?.trim().parse::<u64>().ok());
    Some((field("read_bytes:")?, field("write_bytes:")?))
}

/// The unified (v2) cgroup path from `/proc/<pid>/cgroup`, or on a v1-only system the first
/// hierarchy's path.
pub fn parse_cgroup(text: &str) -> Option<String> {
    let path = |l: &str| l.splitn(3, ':').nth(2).map(str::to_string);
    text.lines().find(|l| l.starts_with("0::")).and_then(path).or_else(|| text.lines().next().and_then(path))
}

/// Real uid from `/proc/<pid>/status`.
pub fn parse_status_uid(text: &str) -> Option<u32> {
    text.lines().find_map(|l| l.strip_prefix("Uid:")?.split_ascii_whitespace().next()?.parse().ok())
}

pub fn parse_passwd(text: &str) -> HashMap<u32, String> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

/// Who a process is, as modules match it; read once per process instance.
#[derive(Debug, Clone)]
pub(crate) struct Info {
    pub(crate) name: String,
    pub(crate) command: String,
    pub(crate) user: Option<String>,
    pub(crate) exe: Option<String>,
    pub(crate) cgroup: Option<String>,
}

impl Info {
    /// Reads the command line, user, executable and cgroup of `pid` (named `name` in its stat).
    pub(crate) fn read(root: &Path, pid: u32, name: &str, users: &HashMap<u32, String>) -> Info {
        let cmd = read_string(&under(root, &format!("/proc/{pid}/cmdline"))).unwrap_or_default();
        let command = cmd.trim_end_matches('\0').replace('\0', " ");
        // Kernel threads have an empty cmdline; ps shows them as [name].
        let command = if command.is_empty() { format!("[{name}]") } else { command };
        let uid = read_string(&under(root, &format!("/proc/{pid}/status"))).ok().and_then(|t| parse_status_uid(&t));
        let user = uid.map(|u| users.get(&u).cloned().unwrap_or_else(|| u.to_string()));
        let exe =
            std::fs::read_link(under(root, &format!("/proc/{pid}/exe"))).ok().map(|p| p.to_string_lossy().into_owned());
        let cgroup = read_string(&under(root, &format!("/proc/{pid}/cgroup"))).ok().and_then(|t| parse_cgroup(&t));
        Info { name: name.to_string(), command, user, exe, cgroup }
    }

    /// As a process-table row (usage left empty): what module matchers look at.
    pub(crate) fn as_stats(&self, pid: u32) -> ProcessStats {
        ProcessStats {
            pid,
            name: self.name.clone(),
            command: self.command.clone(),
            user: self.user.clone(),
            cpu_pct: 0.0,
            rss_bytes: 0,
            read_bps: None,
            write_bps: None,
            exe: self.exe.clone(),
            cgroup: self.cgroup.clone(),
            net: vec![],
        }
    }
}

/// User names by uid from `<root>/etc/passwd` (empty when unreadable: uids are shown instead).
pub(crate) fn read_users(root: &Path) -> HashMap<u32, String> {
    read_string(&under(root, "/etc/passwd")).map(|t| parse_passwd(&t)).unwrap_or_default()
}

/// The kernel's clock tick rate, the unit of CPU times in `/proc/<pid>/stat`.
pub fn clock_ticks_per_s() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let clk = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if clk > 0 { clk as f64 } else { 100.0 }
}

pub(crate) fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if page > 0 { page as u64 } else { 4096 }
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    ms: i64,
    stat: PidStat,
    io: Option<(u64, u64)>,
}

pub struct ProcessCollector {
    root: PathBuf,
    top_n: usize,
    full_interval_ms: i64,
    last_full_ms: Option<i64>,
    clk_tck: f64,
    page_size: u64,
    count: u32,
    /// Latest sample of every process seen in the last full scan or tracked refresh.
    samples: HashMap<u32, Sample>,
    tracked: Vec<u32>,
    info: HashMap<(u32, u64), Info>,
    users: Option<HashMap<u32, String>>,
    buf: String,
    /// Only for the live `/proc`: the kernel's sockets belong to the running system, not to a
    /// fixture tree.
    traffic: Option<SocketTraffic>,
}

impl ProcessCollector {
    pub fn new(root: impl Into<PathBuf>, top_n: usize) -> Self {
        let root: PathBuf = root.into();
        let traffic = (root == Path::new("/")).then(|| SocketTraffic::new(&root));
        ProcessCollector {
            root,
            top_n,
            full_interval_ms: interval_ms(Mode::Active, Cost::Expensive),
            last_full_ms: None,
            clk_tck: clock_ticks_per_s(),
            page_size: page_size(),
            count: 0,
            samples: HashMap::new(),
            tracked: Vec::new(),
            info: HashMap::new(),
            users: None,
            buf: String::new(),
            traffic,
        }
    }

    fn read_stat(&mut self, pid: u32) -> Option<(String, PidStat)> {
        read_into(&under(&self.root, &format!("/proc/{pid}/stat")), &mut self.buf).ok()?;
        parse_pid_stat(&self.buf).map(|(n, s)| (n.to_string(), s))
    }

    fn read_io(&mut self, pid: u32) -> Option<(u64, u64)> {
        // Readable only for our own processes unless we are root (ptrace access check).
        read_into(&under(&self.root, &format!("/proc/{pid}/io")), &mut self.buf).ok()?;
        parse_pid_io(&self.buf)
    }

    fn cpu_pct(&self, prev: &Sample, now: &Sample) -> Option<f64> {
        let dt = now.ms - prev.ms;
        if dt <= 0 || prev.stat.start_ticks != now.stat.start_ticks {
            return None;
        }
        let ticks = now.stat.cpu_ticks.checked_sub(prev.stat.cpu_ticks)?;
        Some(ticks as f64 / self.clk_tck * 100_000.0 / dt as f64)
    }

    /// Rescan every process; returns each pid's CPU % since its previous sample (if any).
    fn full_scan(&mut self, now_ms: i64) -> Result<HashMap<u32, Option<f64>>, TelemetryError> {
        let proc_dir = under(&self.root, "/proc");
        let rd = std::fs::read_dir(&proc_dir).map_err(|e| TelemetryError::io(proc_dir.clone(), e))?;
        let pids: Vec<u32> = rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
        let mut cpu = HashMap::with_capacity(pids.len());
        let mut next = HashMap::with_capacity(pids.len());
        for pid in pids {
            // Processes exit between readdir and read: skip them.
            let Some((_, stat)) = self.read_stat(pid) else { continue };
            let s = Sample { ms: now_ms, stat, io: None };
            let prev = self.samples.get(&pid);
            cpu.insert(pid, prev.and_then(|p| self.cpu_pct(p, &s)));
            // Keep the previous io counters so tracked pids keep their I/O rates.
            next.insert(pid, Sample { io: prev.and_then(|p| p.io), ..s });
        }
        self.count = next.len() as u32;
        // Forget cached names of processes that are gone.
        self.info.retain(|(pid, start), _| next.get(pid).is_some_and(|s| s.stat.start_ticks == *start));
        self.samples = next;

        let mut by_cpu: Vec<(u32, f64)> = cpu.iter().filter_map(|(&p, &c)| Some((p, c?))).collect();
        by_cpu.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut by_mem: Vec<(u32, u64)> = self.samples.iter().map(|(&p, s)| (p, s.stat.rss_pages)).collect();
        by_mem.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut set: HashSet<u32> = by_cpu.iter().take(self.top_n).map(|x| x.0).collect();
        set.extend(by_mem.iter().take(self.top_n).map(|x| x.0));
        self.tracked = set.into_iter().collect();
        self.tracked.sort_unstable();
        Ok(cpu)
    }

    /// Adds the `top_n` processes moving the most TCP bytes to the tracked set: a process sending
    /// 100 MB/s at 1 % CPU must still be in the table to be named as a network culprit.
    fn track_network_top(&mut self, traffic: &[ProcessTraffic]) {
        let mut by_bytes: Vec<(u32, f64)> = traffic.iter().map(|t| (t.owner.pid, t.total_bps())).collect();
        by_bytes.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        self.tracked.extend(by_bytes.into_iter().take(self.top_n).map(|x| x.0));
        self.tracked.sort_unstable();
        self.tracked.dedup();
    }

    fn info_for(&mut self, pid: u32, start: u64, name: &str) -> Info {
        if let Some(i) = self.info.get(&(pid, start)) {
            return i.clone();
        }
        let users = self.users.get_or_insert_with(|| read_users(&self.root));
        let i = Info::read(&self.root, pid, name, users);
        self.info.insert((pid, start), i.clone());
        i
    }

    /// `networks`: this tick's interface rates, which say whether per-process network rates are
    /// worth collecting.
    pub fn sample(
        &mut self,
        now_ms: i64,
        networks: Option<&[NetStats]>,
    ) -> Result<Reading<ProcessTable>, TelemetryError> {
        let first = self.last_full_ms.is_none();
        if self.last_full_ms.is_none_or(|t| now_ms - t >= self.full_interval_ms) {
            self.full_scan(now_ms)?;
            self.last_full_ms = Some(now_ms);
        }
        let traffic = match self.traffic.as_mut() {
            Some(t) if networks.is_some_and(links_busy) => t.sample(now_ms, self.full_interval_ms),
            Some(t) => {
                t.pause();
                None
            }
            None => None,
        };
        let traffic = traffic.unwrap_or_default();
        if first {
            // Seed I/O counters so the next sample has rates.
            for pid in self.tracked.clone() {
                let io = self.read_io(pid);
                if let Some(s) = self.samples.get_mut(&pid) {
                    s.io = io;
                }
            }
            return Ok(Reading::unavailable("process CPU usage needs two samples; it appears with the next one"));
        }
        self.track_network_top(&traffic);
        let traffic: HashMap<u32, ProcessTraffic> = traffic.into_iter().map(|t| (t.owner.pid, t)).collect();
        let mut stale_owners = Vec::new();
        let mut top = Vec::with_capacity(self.tracked.len());
        let mut alive = Vec::with_capacity(self.tracked.len());
        for pid in self.tracked.clone() {
            let Some((name, stat)) = self.read_stat(pid) else {
                // Exited, yet cached as a busy socket's owner: a child may have inherited it.
                if traffic.contains_key(&pid) {
                    stale_owners.push(pid);
                }
                continue;
            };
            alive.push(pid);
            let now = Sample { ms: now_ms, stat, io: self.read_io(pid) };
            let prev = self.samples.insert(pid, now);
            // A pid seen for the first time this scan has no CPU delta yet: it shows next tick.
            let Some(prev) = prev.filter(|p| p.ms < now_ms) else { continue };
            let Some(cpu_pct) = self.cpu_pct(&prev, &now) else { continue };
            let (read_bps, write_bps) = match (prev.io, now.io) {
                (Some((pr, pw)), Some((r, w))) => (rate(pr, r, now_ms - prev.ms), rate(pw, w, now_ms - prev.ms)),
                _ => (None, None),
            };
            let info = self.info_for(pid, stat.start_ticks, &name);
            let net = match traffic.get(&pid) {
                Some(t) if t.owner.start_ticks == stat.start_ticks => t.net.clone(),
                Some(_) => {
                    stale_owners.push(pid);
                    vec![]
                }
                None => vec![],
            };
            top.push(ProcessStats {
                pid,
                name: info.name,
                command: info.command,
                user: info.user,
                cpu_pct,
                rss_bytes: stat.rss_pages * self.page_size,
                read_bps,
                write_bps,
                exe: info.exe,
                cgroup: info.cgroup,
                net,
            });
        }
        // Cached socket owners that are gone or whose pid names another process: look again.
        if let Some(t) = self.traffic.as_mut() {
            stale_owners.into_iter().for_each(|pid| t.forget_pid(pid));
        }
        self.tracked = alive;
        top.sort_by(|a, b| b.cpu_pct.total_cmp(&a.cpu_pct).then(b.rss_bytes.cmp(&a.rss_bytes)));
        Ok(Reading::from(ProcessTable { count: self.count, top }))
    }
}

impl Collector for ProcessCollector {
    fn name(&self) -> &'static str {
        "processes"
    }
    fn cost(&self) -> Cost {
        Cost::Cheap
    }
    fn collect(&mut self, now_ms: i64, snap: &mut Snapshot) {
        // The network collector ran first in this tick (or its last reading stands).
        let networks = snap.networks.value().map(Vec::as_slice);
        snap.processes = self.sample(now_ms, networks).unwrap_or_else(|e| Reading::unavailable(e.to_string()));
    }
    fn set_mode(&mut self, mode: Mode) {
        self.full_interval_ms = interval_ms(mode, Cost::Expensive);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::tests::copy_dir;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn parses_stat_with_spaces_in_name() {
        let text = std::fs::read_to_string(fixture("x86_64_a/proc/1234/stat")).unwrap();
        let (name, s) = parse_pid_stat(&text).unwrap();
        assert_eq!(name, "Web Content");
        assert_eq!(s, PidStat { cpu_ticks: 52011 + 8012, start_ticks: 3411, rss_pages: 98304 });
        assert_eq!(parse_pid_stat("12 (a) b) S 1").map(|x| x.0), None);
        assert_eq!(parse_pid_stat("garbage"), None);
    }

    #[test]
    fn parses_io_status_passwd() {
        let io = std::fs::read_to_string(fixture("x86_64_a/proc/1234/io")).unwrap();
        assert_eq!(parse_pid_io(&io), Some((2097152, 1048576)));
        let st = std::fs::read_to_string(fixture("x86_64_a/proc/1234/status")).unwrap();
        assert_eq!(parse_status_uid(&st), Some(1000));
        let pw = parse_passwd(&std::fs::read_to_string(fixture("x86_64_a/etc/passwd")).unwrap());
        assert_eq!(pw[&1000], "alice");
        assert_eq!(pw[&0], "root");
        let cg = std::fs::read_to_string(fixture("x86_64_a/proc/1234/cgroup")).unwrap();
        assert_eq!(parse_cgroup(&cg).as_deref(), Some("/user.slice/user-1000.slice/app-firefox.scope"));
        assert_eq!(parse_cgroup("3:cpu,cpuacct:/docker/abc\n").as_deref(), Some("/docker/abc"));
        assert_eq!(parse_cgroup(""), None);
    }

    #[test]
    fn top_processes_with_rates() {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture("x86_64_a/proc"), &dir.path().join("proc"));
        copy_dir(&fixture("x86_64_a/etc"), &dir.path().join("etc"));
        let mut c = ProcessCollector::new(dir.path(), 2);
        c.clk_tck = 100.0;
        c.page_size = 4096;
        let mut snap = Snapshot::empty(0);
        c.collect(0, &mut snap);
        assert!(snap.processes.reason().unwrap().contains("two samples"));
        // Top 2 by memory: python3 (262144 pages) and firefox (98304).
        assert_eq!(c.tracked, vec![1234, 4321]);

        // One second later: python3 used 150 ticks (150% of a core), firefox 20 and read 1 MiB.
        let bump = |pid: u32, from: &str, to: &str| {
            let p = dir.path().join(format!("proc/{pid}/stat"));
            let t = std::fs::read_to_string(&p).unwrap().replacen(from, to, 1);
            std::fs::write(p, t).unwrap();
        };
        bump(4321, " 120033 3001 ", " 120183 3001 ");
        bump(1234, " 52011 8012 ", " 52021 8022 ");
        let io = dir.path().join("proc/1234/io");
        let t = std::fs::read_to_string(&io).unwrap().replace("read_bytes: 2097152", "read_bytes: 3145728");
        std::fs::write(io, t).unwrap();
        c.collect(1000, &mut snap);
        let t = snap.processes.value().unwrap().clone();
        assert_eq!(t.count, 4);
        assert_eq!(t.top.len(), 2);
        let py = &t.top[0];
        assert_eq!((py.pid, py.name.as_str(), py.command.as_str()), (4321, "python3", "python3 train.py --epochs 3"));
        assert_eq!(py.user.as_deref(), Some("alice"));
        assert_eq!(py.cpu_pct, 150.0);
        assert_eq!(py.rss_bytes, 262144 * 4096);
        assert_eq!((py.read_bps, py.write_bps), (None, None)); // no io file
        let ff = &t.top[1];
        assert_eq!((ff.pid, ff.cpu_pct), (1234, 20.0));
        assert_eq!((ff.read_bps, ff.write_bps), (Some(1048576.0), Some(0.0)));
        assert_eq!(ff.command, "/usr/lib/firefox/firefox -contentproc -childID");
        assert_eq!(ff.exe.as_deref(), Some("/usr/lib/firefox/firefox"));
        assert_eq!(ff.cgroup.as_deref(), Some("/user.slice/user-1000.slice/app-firefox.scope"));
        assert_eq!((py.exe.as_deref(), py.cgroup.as_deref()), (None, None), "unreadable: absent, not guessed");
    }

    fn eth0(tx_bps: f64) -> NetStats {
        NetStats {
            name: "eth0".into(),
            rx_bytes_total: 0,
            tx_bytes_total: 0,
            rx_bps: Some(0.0),
            tx_bps: Some(tx_bps),
            link_speed_mbps: 1000.into(),
        }
    }

    #[test]
    fn a_process_sending_over_loopback_is_a_network_row() {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        const SENT: usize = 50 << 20;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 20];
            for _ in 0..2 {
                let mut got = 0;
                while got < SENT {
                    got += server.read(&mut buf).unwrap();
                }
                server.write_all(b"k").unwrap();
            }
            server // kept open: a closed socket has no owner to find
        });
        let mut transfer = || {
            let chunk = vec![7u8; 1 << 20];
            (0..SENT >> 20).for_each(|_| client.write_all(&chunk).unwrap());
            // Wait for the peer's reply, then for the last ACK: bytes count once acknowledged.
            client.read_exact(&mut [0u8; 1]).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        let mut c = ProcessCollector::new("/", 5);
        let mut snap = Snapshot::empty(0);
        let my_net = |snap: &Snapshot| {
            snap.processes.value()?.top.iter().find(|p| p.pid == std::process::id()).map(|p| p.net.clone())
        };

        // Idle links: no dump, so the transfer that follows is not measured.
        snap.networks = vec![eth0(0.0)].into();
        c.collect(0, &mut snap);
        transfer();
        // A busy link, as the network collector would report it: this dump only seeds counters.
        snap.networks = vec![eth0(100e6)].into();
        c.collect(500, &mut snap);
        assert_eq!(my_net(&snap).unwrap_or_default(), vec![], "no rate from before the first dump");
        transfer();
        c.collect(1500, &mut snap);
        let net = my_net(&snap).expect("this process is a network row");
        let lo = net.iter().find(|n| n.interface == "lo").unwrap_or_else(|| panic!("no loopback rates: {net:?}"));
        // Both ends are in this process: 50 MB out and in over the synthetic second.
        assert!(lo.tx_bps >= SENT as f64 && lo.rx_bps >= SENT as f64, "{lo:?}");
        assert!(lo.tx_bps < 2.0 * SENT as f64, "only the second transfer: {lo:?}");
        let _server = reader.join().unwrap();
    }

    #[test]
    fn no_proc_is_unavailable() {
        let mut snap = Snapshot::empty(0);
        ProcessCollector::new(fixture("empty"), 15).collect(0, &mut snap);
        assert!(snap.processes.reason().unwrap().contains("proc"));
    }
}
