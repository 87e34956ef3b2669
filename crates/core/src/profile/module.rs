//! Modules: named workloads, each a set of processes picked out by cgroup, executable,
//! command-line pattern, user, or (for a service that registers itself) its PIDs.
//!
//! Usage is aggregated from the process table the sampler already keeps, so it covers the
//! processes that table tracks (the busiest by CPU and by memory).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::series::SeriesValue;
use crate::{ProcessStats, Reading, Snapshot};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ModuleSpec {
    /// Letters, digits, `_` and `-`: it becomes part of series names (`module.<name>.cpu`).
    pub name: String,
    /// A process belongs to the module when any matcher matches it.
    pub matchers: Vec<Matcher>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Matcher {
    /// The process's cgroup path starts with `prefix` (e.g. `/system.slice/ollama.service`).
    Cgroup { prefix: String },
    /// The executable's full path or file name, e.g. `/usr/bin/python3` or `python3`.
    Executable { name: String },
    /// A glob (`*` any run, `?` one character) over the whole command line.
    Command { pattern: String },
    /// The process's user name.
    User { name: String },
    /// PIDs a service reported when it registered itself.
    Pids { pids: Vec<u32> },
}

pub const MAX_NAME_LEN: usize = 64;

impl ModuleSpec {
    /// Why this spec cannot be used, if it cannot.
    pub fn validate(&self) -> Result<(), String> {
        let n = &self.name;
        if n.is_empty() || n.len() > MAX_NAME_LEN {
            return Err(format!("module name must be 1 to {MAX_NAME_LEN} characters"));
        }
        if !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(format!("module name {n:?} may hold only letters, digits, '_' and '-'"));
        }
        if self.matchers.is_empty() {
            return Err(format!("module {n:?} needs at least one matcher"));
        }
        for m in &self.matchers {
            let empty = match m {
                Matcher::Cgroup { prefix: s } | Matcher::Executable { name: s } | Matcher::User { name: s } => {
                    s.is_empty()
                }
                Matcher::Command { pattern } => pattern.is_empty(),
                Matcher::Pids { pids } => pids.is_empty(),
            };
            if empty {
                return Err(format!("module {n:?} has an empty matcher"));
            }
        }
        Ok(())
    }

    pub fn matches(&self, p: &ProcessStats) -> bool {
        self.matchers.iter().any(|m| m.matches(p))
    }
}

impl Matcher {
    pub fn matches(&self, p: &ProcessStats) -> bool {
        match self {
            Matcher::Cgroup { prefix } => p.cgroup.as_deref().is_some_and(|c| c.starts_with(prefix.as_str())),
            Matcher::Executable { name } => match p.exe.as_deref() {
                Some(exe) => exe == name || exe.rsplit('/').next() == Some(name.as_str()),
                // The exe link is unreadable for other users' processes: fall back to the name.
                None => &p.name == name,
            },
            Matcher::Command { pattern } => glob(pattern.as_bytes(), p.command.as_bytes()),
            Matcher::User { name } => p.user.as_deref() == Some(name.as_str()),
            Matcher::Pids { pids } => pids.contains(&p.pid),
        }
    }
}

/// The configured modules with registered modules' PIDs joined in (`registration.rs`): a
/// pids matcher added to the module of the same name, or a module of its own when none is
/// configured. A registered module without PIDs adds nothing.
pub fn join_registered(configured: &[ModuleSpec], registered: &BTreeMap<String, Vec<u32>>) -> Vec<ModuleSpec> {
    let mut out = configured.to_vec();
    for (name, pids) in registered.iter().filter(|(_, pids)| !pids.is_empty()) {
        let matcher = Matcher::Pids { pids: pids.clone() };
        match out.iter_mut().find(|m| &m.name == name) {
            Some(m) => m.matchers.push(matcher),
            None => out.push(ModuleSpec { name: name.clone(), matchers: vec![matcher] }),
        }
    }
    out
}

/// Glob match with `*` and `?`, iterative with one backtrack point (linear in practice).
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Names of the modules `p` belongs to.
pub fn modules_of(modules: &[ModuleSpec], p: &ProcessStats) -> Vec<String> {
    modules.iter().filter(|m| m.matches(p)).map(|m| m.name.clone()).collect()
}

/// One module's usage in one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ModuleUsage {
    pub name: String,
    pub ts_ms: i64,
    /// The matching processes among those the sampler tracks.
    pub pids: Vec<u32>,
    /// Percent of one core, summed over the module's processes.
    pub cpu_pct: Reading<f64>,
    pub rss_bytes: Reading<u64>,
    pub read_bps: Reading<f64>,
    pub write_bps: Reading<f64>,
    pub gpu_memory_bytes: Reading<u64>,
    pub gpu_util_pct: Reading<f64>,
    /// CPU package power times the module's share of busy CPU time: an estimate, not a meter.
    pub power_w_estimate: Reading<f64>,
}

pub fn usage(spec: &ModuleSpec, snap: &Snapshot) -> ModuleUsage {
    let unavailable = |why: &str| ModuleUsage {
        name: spec.name.clone(),
        ts_ms: snap.ts_ms,
        pids: vec![],
        cpu_pct: Reading::unavailable(why),
        rss_bytes: Reading::unavailable(why),
        read_bps: Reading::unavailable(why),
        write_bps: Reading::unavailable(why),
        gpu_memory_bytes: Reading::unavailable(why),
        gpu_util_pct: Reading::unavailable(why),
        power_w_estimate: Reading::unavailable(why),
    };
    let table = match &snap.processes {
        Reading::Available { value } => value,
        Reading::Unavailable { reason } => return unavailable(reason),
    };
    let procs: Vec<&ProcessStats> = table.top.iter().filter(|p| spec.matches(p)).collect();
    // fold from +0.0: an empty f64 sum is -0.0, which would print as "-0".
    let cpu = procs.iter().map(|p| p.cpu_pct).fold(0.0, |a, b| a + b);
    let io = |f: fn(&ProcessStats) -> Option<f64>| -> Reading<f64> {
        if procs.is_empty() {
            return Reading::from(0.0);
        }
        let known: Vec<f64> = procs.iter().filter_map(|p| f(p)).collect();
        if known.is_empty() {
            Reading::unavailable("no readable /proc/<pid>/io for the module's processes (another user's)")
        } else {
            Reading::from(known.iter().fold(0.0, |a, b| a + b))
        }
    };
    let pids: Vec<u32> = procs.iter().map(|p| p.pid).collect();
    let (gpu_mem, gpu_util) = gpu_usage(snap, &pids);
    ModuleUsage {
        name: spec.name.clone(),
        ts_ms: snap.ts_ms,
        cpu_pct: Reading::from(cpu),
        rss_bytes: Reading::from(procs.iter().map(|p| p.rss_bytes).sum::<u64>()),
        read_bps: io(|p| p.read_bps),
        write_bps: io(|p| p.write_bps),
        gpu_memory_bytes: gpu_mem,
        gpu_util_pct: gpu_util,
        power_w_estimate: power_share(snap, cpu),
        pids,
    }
}

fn gpu_usage(snap: &Snapshot, pids: &[u32]) -> (Reading<u64>, Reading<f64>) {
    let gpus = match &snap.gpus {
        Reading::Available { value } => value,
        Reading::Unavailable { reason } => return (Reading::unavailable(reason), Reading::unavailable(reason)),
    };
    let mut mem = 0u64;
    let mut util = 0f64;
    for g in gpus {
        let Some(procs) = g.processes.value() else {
            return (
                Reading::unavailable("the driver does not list GPU processes"),
                Reading::unavailable("the driver does not list GPU processes"),
            );
        };
        for p in procs.iter().filter(|p| pids.contains(&p.pid)) {
            mem += p.used_memory_bytes.unwrap_or(0);
            util += f64::from(p.sm_utilization_pct.unwrap_or(0));
        }
    }
    (Reading::from(mem), Reading::from(util))
}

fn power_share(snap: &Snapshot, module_cpu_pct: f64) -> Reading<f64> {
    let Some(rapl) = snap.rapl.value() else {
        return Reading::unavailable(format!("no CPU power meter: {}", snap.rapl.reason().unwrap_or("")));
    };
    let package: Vec<f64> = rapl.iter().filter(|d| d.name.starts_with("package")).filter_map(|d| d.power_w).collect();
    let Some(cpu) = snap.cpu.value() else { return Reading::unavailable("no CPU usage") };
    if package.is_empty() {
        return Reading::unavailable("no RAPL package power yet (needs two samples)");
    }
    let busy_core_pct = cpu.total_pct * cpu.per_core_pct.len() as f64;
    let share = if busy_core_pct > 0.0 { (module_cpu_pct / busy_core_pct).min(1.0) } else { 0.0 };
    Reading::from(package.iter().sum::<f64>() * share)
}

/// History series of a module's usage: `module.<name>.cpu|rss|read_bps|write_bps|gpu_mem|gpu_util|power_w_est`.
pub fn usage_series(u: &ModuleUsage) -> Vec<SeriesValue> {
    let mut out = Vec::new();
    let mut push = |what: &str, v: Option<f64>| {
        if let Some(value) = v.filter(|v| v.is_finite()) {
            out.push(SeriesValue { series: format!("module.{}.{what}", u.name), value });
        }
    };
    push("cpu", u.cpu_pct.value().copied());
    push("rss", u.rss_bytes.value().map(|v| *v as f64));
    push("read_bps", u.read_bps.value().copied());
    push("write_bps", u.write_bps.value().copied());
    push("gpu_mem", u.gpu_memory_bytes.value().map(|v| *v as f64));
    push("gpu_util", u.gpu_util_pct.value().copied());
    push("power_w_est", u.power_w_estimate.value().copied());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_pids_join_the_module_of_the_same_name() {
        let user = |name: &str| ModuleSpec { name: name.into(), matchers: vec![Matcher::User { name: "ann".into() }] };
        let registered = BTreeMap::from([
            ("vision".to_string(), vec![7, 8]),
            ("planner".to_string(), vec![9]),
            ("idle".to_string(), vec![]),
        ]);
        let joined = join_registered(&[user("vision"), user("other")], &registered);
        let names: Vec<&str> = joined.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["vision", "other", "planner"]);
        assert_eq!(joined[0].matchers[1], Matcher::Pids { pids: vec![7, 8] });
        assert_eq!(joined[1], user("other"));
        assert_eq!(joined[2].matchers, vec![Matcher::Pids { pids: vec![9] }]);
    }
    use crate::ProcessTable;

    pub(crate) fn proc(pid: u32, name: &str, command: &str, user: &str, cpu: f64, rss: u64) -> ProcessStats {
        ProcessStats {
            pid,
            name: name.into(),
            command: command.into(),
            user: Some(user.into()),
            cpu_pct: cpu,
            rss_bytes: rss,
            read_bps: None,
            write_bps: None,
            exe: Some(format!("/usr/bin/{name}")),
            cgroup: Some(format!("/user.slice/{user}.slice/app-{name}.scope")),
            net: vec![],
        }
    }

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(glob(b"python* train.py*", b"python3 train.py --epochs 3"));
        assert!(glob(b"*", b""));
        assert!(glob(b"a?c", b"abc"));
        assert!(!glob(b"a?c", b"ac"));
        assert!(!glob(b"*train", b"python train.py"));
        assert!(glob(b"*a*b*c*", b"xxaxxbxxcxx"));
    }

    #[test]
    fn matchers_pick_the_right_processes() {
        let p = proc(7, "python3", "python3 train.py", "alice", 50.0, 1 << 20);
        let m = |matcher: Matcher| ModuleSpec { name: "m".into(), matchers: vec![matcher] }.matches(&p);
        assert!(m(Matcher::Executable { name: "python3".into() }));
        assert!(m(Matcher::Executable { name: "/usr/bin/python3".into() }));
        assert!(!m(Matcher::Executable { name: "python".into() }));
        assert!(m(Matcher::Cgroup { prefix: "/user.slice/alice.slice".into() }));
        assert!(!m(Matcher::Cgroup { prefix: "/system.slice".into() }));
        assert!(m(Matcher::Command { pattern: "*train.py".into() }));
        assert!(m(Matcher::User { name: "alice".into() }));
        assert!(!m(Matcher::User { name: "bob".into() }));
        assert!(m(Matcher::Pids { pids: vec![3, 7] }));
    }

    #[test]
    fn validation_refuses_names_that_break_series() {
        let spec = |name: &str| ModuleSpec { name: name.into(), matchers: vec![Matcher::User { name: "a".into() }] };
        assert!(spec("train-job_1").validate().is_ok());
        assert!(spec("a.b").validate().is_err());
        assert!(spec("").validate().is_err());
        assert!(ModuleSpec { name: "x".into(), matchers: vec![] }.validate().is_err());
        assert!(
            ModuleSpec { name: "x".into(), matchers: vec![Matcher::Command { pattern: "".into() }] }
                .validate()
                .is_err()
        );
    }

    #[test]
    fn usage_sums_matching_processes_and_series_follow() {
        let mut s = Snapshot::empty(1000);
        s.processes = ProcessTable {
            count: 3,
            top: vec![
                proc(1, "python3", "python3 a.py", "alice", 80.0, 100),
                proc(2, "python3", "python3 b.py", "alice", 40.0, 50),
                proc(3, "bash", "bash", "alice", 5.0, 10),
            ],
        }
        .into();
        let spec = ModuleSpec { name: "py".into(), matchers: vec![Matcher::Executable { name: "python3".into() }] };
        let u = usage(&spec, &s);
        assert_eq!(u.pids, vec![1, 2]);
        assert_eq!(u.cpu_pct, Reading::from(120.0));
        assert_eq!(u.rss_bytes, Reading::from(150));
        assert!(u.read_bps.reason().unwrap().contains("/io"));
        assert!(u.power_w_estimate.reason().is_some(), "no RAPL: no invented watts");
        let names: Vec<String> = usage_series(&u).into_iter().map(|v| v.series).collect();
        assert!(names.contains(&"module.py.cpu".to_string()));
        assert!(!names.iter().any(|n| n.ends_with("read_bps") || n.ends_with("power_w_est")));
    }
}
