//! Resource limits for a task: cgroup v2 where its controllers are present, else cgroup v1, else
//! rlimits. Whichever is used is reported with the task, never assumed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use steward_proto::agent::ResourceLimits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    CgroupV2,
    CgroupV1,
    Rlimit,
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::CgroupV2 => "cgroup_v2",
            Mechanism::CgroupV1 => "cgroup_v1",
            Mechanism::Rlimit => "rlimit",
        }
    }
}

/// Where this machine's cgroups are, found once at start.
#[derive(Debug, Clone)]
pub struct Cgroups {
    /// A writable cgroup v2 directory with cpu, memory and pids enabled for its children.
    v2: Option<PathBuf>,
    /// The v1 hierarchies' roots (`.../memory`, `.../cpu`, `.../pids`) where writable.
    v1: Option<(PathBuf, PathBuf, PathBuf)>,
    idle: Arc<Idle>,
}

/// Cgroups a task left empty, with their limits: the next task with the same limits joins one
/// instead of paying a mkdir, the limit writes and an rmdir per hierarchy.
#[derive(Debug, Default)]
struct Idle(Mutex<Vec<(ResourceLimits, Placement)>>);

/// Idle cgroups kept at most (about a slot's worth per limit shape on a big node).
const MAX_IDLE: usize = 256;

impl Drop for Idle {
    fn drop(&mut self) {
        if let Ok(idle) = self.0.get_mut() {
            idle.iter().for_each(|(_, p)| p.remove());
        }
    }
}

impl Cgroups {
    pub fn detect(root: &Path) -> Cgroups {
        Cgroups { v2: detect_v2(root), v1: detect_v1(root), idle: Arc::default() }
    }

    /// Done with a task's placement: its cgroups are kept for a later task with the same
    /// limits when nothing is left in them and they set no memory limit (a v1 memory cgroup
    /// keeps the page cache it was charged, which would count against the next task);
    /// removed otherwise.
    pub fn release(&self, placement: Placement, limits: &ResourceLimits) {
        if let Placement::Cgroups(_, dirs) = &placement {
            let empty = dirs.iter().all(|d| std::fs::read(d.join("cgroup.procs")).is_ok_and(|b| b.is_empty()));
            if empty && limits.memory_bytes == 0 {
                if let Ok(mut idle) = self.idle.0.lock() {
                    if idle.len() < MAX_IDLE {
                        return idle.push((*limits, placement));
                    }
                }
            }
        }
        placement.remove();
    }

    fn reuse(&self, limits: &ResourceLimits) -> Option<Placement> {
        let mut idle = self.idle.0.lock().ok()?;
        let i = idle.iter().rposition(|(l, _)| l == limits)?;
        Some(idle.swap_remove(i).1)
    }

    pub fn mechanism(&self) -> Mechanism {
        if self.v2.is_some() {
            Mechanism::CgroupV2
        } else if self.v1.is_some() {
            Mechanism::CgroupV1
        } else {
            Mechanism::Rlimit
        }
    }

    /// Creates the task's cgroup(s) with the limits; the pid joins later via [`Placement::join`].
    /// Falls back to rlimits (returned as `Placement::Rlimit`) when a cgroup cannot be made.
    pub fn place(&self, task_id: &str, limits: &ResourceLimits) -> Placement {
        if limits.memory_bytes == 0 {
            if let Some(p) = self.reuse(limits) {
                return p;
            }
        }
        let name = sanitize(task_id);
        if let Some(base) = &self.v2 {
            let dir = base.join(&name);
            if make_v2(&dir, limits).is_ok() {
                return Placement::Cgroups(Mechanism::CgroupV2, vec![dir]);
            }
            let _ = std::fs::remove_dir(&dir);
        }
        if let Some((mem, cpu, pids)) = &self.v1 {
            // Only the hierarchies of the limits asked for: each cgroup costs a mkdir, a join
            // and an rmdir per task.
            let dirs: Vec<PathBuf> = [(mem, limits.memory_bytes > 0), (cpu, limits.cpu_millis > 0), (pids, limits.max_pids > 0)]
                .into_iter()
                .filter(|(_, wanted)| *wanted)
                .map(|(root, _)| root.join(&name))
                .collect();
            if make_v1(&dirs, limits).is_ok() {
                return Placement::Cgroups(Mechanism::CgroupV1, dirs);
            }
            for d in &dirs {
                let _ = std::fs::remove_dir(d);
            }
        }
        Placement::Rlimit
    }
}

/// Where a task's limits live.
#[derive(Debug)]
pub enum Placement {
    Cgroups(Mechanism, Vec<PathBuf>),
    Rlimit,
}

impl Placement {
    pub fn mechanism(&self) -> Mechanism {
        match self {
            Placement::Cgroups(m, _) => *m,
            Placement::Rlimit => Mechanism::Rlimit,
        }
    }

    /// The `cgroup.procs` files the child writes itself into before exec (see [`join_self`]).
    pub fn procs_files(&self) -> Vec<std::ffi::CString> {
        match self {
            Placement::Cgroups(_, dirs) => dirs
                .iter()
                .filter_map(|d| std::ffi::CString::new(d.join("cgroup.procs").into_os_string().into_encoded_bytes()).ok())
                .collect(),
            Placement::Rlimit => Vec::new(),
        }
    }

    /// Moves `pid` into the cgroups. Called after spawn as well, to find out whether the
    /// child's own join (which cannot report) worked.
    pub fn join(&self, pid: u32) -> std::io::Result<()> {
        if let Placement::Cgroups(_, dirs) = self {
            for d in dirs {
                std::fs::write(d.join("cgroup.procs"), pid.to_string())?;
            }
        }
        Ok(())
    }

    /// Removes the cgroups once the task's processes are gone.
    pub fn remove(&self) {
        if let Placement::Cgroups(_, dirs) = self {
            for d in dirs {
                let _ = std::fs::remove_dir(d);
            }
        }
    }
}

/// In the child before exec: joins the task's cgroups, so nothing it starts escapes them (a
/// join after spawn races with a shell forking its first command). Only open/write/close,
/// which are async-signal-safe; a failure shows in the parent's join.
pub fn join_self(procs_files: &[std::ffi::CString]) {
    for f in procs_files {
        // SAFETY: a NUL-terminated path we own; "0" is the calling process.
        unsafe {
            let fd = libc::open(f.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd >= 0 {
                libc::write(fd, b"0".as_ptr().cast(), 1);
                libc::close(fd);
            }
        }
    }
}

/// rlimits applied in the child before exec (async-signal-safe calls only). CPU share cannot be
/// expressed as an rlimit; memory (address space) and process count can.
pub fn apply_rlimits(limits: &ResourceLimits) -> std::io::Result<()> {
    let set = |resource, value: u64| {
        let lim = libc::rlimit { rlim_cur: value as libc::rlim_t, rlim_max: value as libc::rlim_t };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(resource, &lim) } != 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
    };
    if limits.memory_bytes > 0 {
        set(libc::RLIMIT_AS, limits.memory_bytes)?;
    }
    if limits.max_pids > 0 {
        set(libc::RLIMIT_NPROC, limits.max_pids as u64)?;
    }
    Ok(())
}

/// Whether [`apply_rlimits`] has anything to set (a CPU share alone has no rlimit).
pub fn has_rlimits(limits: &ResourceLimits) -> bool {
    limits.memory_bytes > 0 || limits.max_pids > 0
}

pub fn is_empty(limits: &ResourceLimits) -> bool {
    limits.cpu_millis == 0 && limits.memory_bytes == 0 && limits.max_pids == 0
}

fn sanitize(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

const PERIOD_US: u64 = 100_000;

fn make_v2(dir: &Path, l: &ResourceLimits) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if l.memory_bytes > 0 {
        std::fs::write(dir.join("memory.max"), l.memory_bytes.to_string())?;
    }
    if l.cpu_millis > 0 {
        std::fs::write(dir.join("cpu.max"), format!("{} {PERIOD_US}", l.cpu_millis as u64 * PERIOD_US / 1000))?;
    }
    if l.max_pids > 0 {
        std::fs::write(dir.join("pids.max"), l.max_pids.to_string())?;
    }
    Ok(())
}

/// `dirs` are the memory, cpu and pids cgroups of the limits that are set, in that order.
fn make_v1(dirs: &[PathBuf], l: &ResourceLimits) -> std::io::Result<()> {
    let mut dirs = dirs.iter();
    let mut next = || -> std::io::Result<&PathBuf> {
        let d = dirs.next().ok_or_else(|| std::io::Error::other("missing cgroup directory"))?;
        std::fs::create_dir_all(d)?;
        Ok(d)
    };
    if l.memory_bytes > 0 {
        std::fs::write(next()?.join("memory.limit_in_bytes"), l.memory_bytes.to_string())?;
    }
    if l.cpu_millis > 0 {
        let d = next()?;
        std::fs::write(d.join("cpu.cfs_period_us"), PERIOD_US.to_string())?;
        std::fs::write(d.join("cpu.cfs_quota_us"), (l.cpu_millis as u64 * PERIOD_US / 1000).to_string())?;
    }
    if l.max_pids > 0 {
        std::fs::write(next()?.join("pids.max"), l.max_pids.to_string())?;
    }
    Ok(())
}

/// The cgroup2 mount (or our own cgroup in it) whose children get cpu, memory and pids.
fn detect_v2(root: &Path) -> Option<PathBuf> {
    for mount in [root.join("sys/fs/cgroup"), root.join("sys/fs/cgroup/unified")] {
        let Ok(controllers) = std::fs::read_to_string(mount.join("cgroup.controllers")) else { continue };
        let have = |c: &str| controllers.split_whitespace().any(|x| x == c);
        if !(have("cpu") && have("memory") && have("pids")) {
            continue;
        }
        let base = mount.join("steward");
        if std::fs::create_dir_all(&base).is_err() {
            continue;
        }
        // Children of `base` get the controllers only if both levels enable them.
        let enable = "+cpu +memory +pids";
        if std::fs::write(mount.join("cgroup.subtree_control"), enable).is_ok()
            && std::fs::write(base.join("cgroup.subtree_control"), enable).is_ok()
        {
            return Some(base);
        }
    }
    None
}

fn detect_v1(root: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let fs = root.join("sys/fs/cgroup");
    let cpu = if fs.join("cpu/cpu.cfs_quota_us").exists() { fs.join("cpu") } else { fs.join("cpu,cpuacct") };
    let dirs = (fs.join("memory/steward"), cpu.join("steward"), fs.join("pids/steward"));
    for d in [&dirs.0, &dirs.1, &dirs.2] {
        std::fs::create_dir_all(d).ok()?;
    }
    dirs.0.join("memory.limit_in_bytes").exists().then_some(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_without_cgroups_falls_back_to_rlimits() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cgroups::detect(dir.path());
        assert_eq!(c.mechanism(), Mechanism::Rlimit);
        assert_eq!(c.place("t1", &ResourceLimits { memory_bytes: 1 << 30, ..Default::default() }).mechanism(), Mechanism::Rlimit);
    }

    #[test]
    fn v2_with_its_controllers_is_preferred_and_limits_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let fs = dir.path().join("sys/fs/cgroup");
        std::fs::create_dir_all(&fs).unwrap();
        std::fs::write(fs.join("cgroup.controllers"), "cpuset cpu io memory pids").unwrap();
        let c = Cgroups::detect(dir.path());
        assert_eq!(c.mechanism(), Mechanism::CgroupV2);
        let p = c.place("job/1", &ResourceLimits { cpu_millis: 1500, memory_bytes: 1024, max_pids: 8 });
        assert_eq!(p.mechanism(), Mechanism::CgroupV2);
        let task = fs.join("steward/job_1");
        assert_eq!(std::fs::read_to_string(task.join("cpu.max")).unwrap(), "150000 100000");
        assert_eq!(std::fs::read_to_string(task.join("memory.max")).unwrap(), "1024");
        assert_eq!(std::fs::read_to_string(task.join("pids.max")).unwrap(), "8");
    }

    #[test]
    fn v2_without_controllers_uses_v1() {
        let dir = tempfile::tempdir().unwrap();
        let fs = dir.path().join("sys/fs/cgroup");
        std::fs::create_dir_all(fs.join("unified")).unwrap();
        std::fs::write(fs.join("unified/cgroup.controllers"), "").unwrap();
        std::fs::create_dir_all(fs.join("memory/steward")).unwrap();
        std::fs::write(fs.join("memory/steward/memory.limit_in_bytes"), "").unwrap();
        std::fs::create_dir_all(fs.join("cpu")).unwrap();
        std::fs::write(fs.join("cpu/cpu.cfs_quota_us"), "-1").unwrap();
        assert_eq!(Cgroups::detect(dir.path()).mechanism(), Mechanism::CgroupV1);
    }

    /// A cgroup v1 tree with memory, cpu and pids hierarchies and a `steward` cgroup in each.
    fn v1_tree() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let fs = dir.path().join("sys/fs/cgroup");
        for h in ["memory", "cpu", "pids"] {
            std::fs::create_dir_all(fs.join(h).join("steward")).unwrap();
        }
        std::fs::write(fs.join("memory/steward/memory.limit_in_bytes"), "").unwrap();
        std::fs::write(fs.join("cpu/cpu.cfs_quota_us"), "-1").unwrap();
        (dir, fs)
    }

    #[test]
    fn v1_makes_only_the_cgroups_of_the_limits_asked_for() {
        let (dir, fs) = v1_tree();
        let c = Cgroups::detect(dir.path());
        let Placement::Cgroups(Mechanism::CgroupV1, dirs) = c.place("cpu-only", &ResourceLimits { cpu_millis: 500, ..Default::default() }) else { panic!() };
        assert_eq!(dirs, [fs.join("cpu/steward/cpu-only")]);
        assert_eq!(std::fs::read_to_string(dirs[0].join("cpu.cfs_quota_us")).unwrap(), "50000");
        assert!(!fs.join("memory/steward/cpu-only").exists());
        let Placement::Cgroups(_, dirs) = c.place("all", &ResourceLimits { cpu_millis: 1000, memory_bytes: 4096, max_pids: 3 }) else { panic!() };
        assert_eq!(dirs.len(), 3);
        assert_eq!(std::fs::read_to_string(fs.join("memory/steward/all/memory.limit_in_bytes")).unwrap(), "4096");
        assert_eq!(std::fs::read_to_string(fs.join("pids/steward/all/pids.max")).unwrap(), "3");
    }

    #[test]
    fn empty_cgroups_without_a_memory_limit_are_reused_for_the_same_limits() {
        let (dir, fs) = v1_tree();
        let c = Cgroups::detect(dir.path());
        let one = ResourceLimits { cpu_millis: 1000, ..Default::default() };
        let dirs = |p: &Placement| match p {
            Placement::Cgroups(_, d) => d.clone(),
            Placement::Rlimit => panic!("no cgroup"),
        };
        let a = c.place("a", &one);
        let a_dirs = dirs(&a);
        // The fixture's cgroup.procs is a plain file: empty once the task's processes are gone.
        std::fs::write(a_dirs[0].join("cgroup.procs"), "").unwrap();
        c.release(a, &one);
        assert!(a_dirs[0].exists(), "kept");
        assert_eq!(dirs(&c.place("b", &one)), a_dirs, "the same limits join the idle cgroup");
        let half = ResourceLimits { cpu_millis: 500, ..Default::default() };
        assert_eq!(dirs(&c.place("c", &half)), [fs.join("cpu/steward/c")], "other limits get their own");
        // A process left behind (a shell's child) keeps its cgroup out of the pool.
        let d = c.place("d", &one);
        let d_dirs = dirs(&d);
        std::fs::write(d_dirs[0].join("cgroup.procs"), "4242\n").unwrap();
        c.release(d, &one);
        assert_eq!(dirs(&c.place("e", &one)), [fs.join("cpu/steward/e")]);
        // A memory limit is never pooled.
        let mem = ResourceLimits { memory_bytes: 4096, ..Default::default() };
        let m = c.place("m", &mem);
        let m_dirs = dirs(&m);
        std::fs::write(m_dirs[0].join("cgroup.procs"), "").unwrap();
        c.release(m, &mem);
        assert_eq!(dirs(&c.place("n", &mem)), [fs.join("memory/steward/n")]);
    }
}
