//! Resource limits for a task: cgroup v2 where its controllers are present, else cgroup v1, else
//! rlimits. Whichever is used is reported with the task, never assumed.
//!
//! Cgroups are costly to make (mkdir, limit writes, rmdir on cgroupfs), so a cgroup a task left
//! empty and that set no memory limit (a v1 memory cgroup keeps the page cache charged to it) is
//! joined by the next task with the same limits. Each agent keeps its cgroups under
//! `steward/a<pid>-<n>/`, and an agent starting removes what agents no longer running left there
//! (a SIGKILLed agent's idle pool would otherwise stay forever).

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
    /// This agent's own cgroup v2 directory, with cpu, memory and pids enabled for its children.
    v2: Option<PathBuf>,
    /// This agent's own cgroups in the v1 hierarchies (`.../memory`, `.../cpu`, `.../pids`).
    v1: Option<(PathBuf, PathBuf, PathBuf)>,
    idle: Arc<Idle>,
}

/// Cgroups a task left empty, with their limits: the next task with the same limits joins one
/// instead of paying a mkdir, the limit writes and an rmdir per hierarchy.
#[derive(Debug, Default)]
struct Idle {
    pool: Mutex<Vec<(ResourceLimits, Placement)>>,
    /// This agent's own directories, removed last.
    own: Vec<PathBuf>,
}

/// Idle cgroups kept at most (about a slot's worth per limit shape on a big node).
const MAX_IDLE: usize = 256;

impl Drop for Idle {
    fn drop(&mut self) {
        if let Ok(idle) = self.pool.get_mut() {
            idle.iter().for_each(|(_, p)| p.remove());
        }
        for d in &self.own {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Each agent keeps its tasks' cgroups in a directory of its own under `steward/`: agents on
/// one machine (or in one test process) never share one, and what a killed agent left (its idle
/// pool, a task's cgroup whose removal it did not live to do) is swept by the next to start.
fn own_name() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!("a{}-{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// The pid of the agent that owns `steward/<name>`, for names [`own_name`] makes.
fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix('a')?.split_once('-')?.0.parse().ok()
}

/// Removes the cgroups under `steward` that no running agent owns (directories of agents that
/// are gone, and cgroups of the layout before per-agent directories). A cgroup that still holds
/// a process cannot be removed and stays.
fn sweep_dead(steward: &Path, proc_root: &Path) {
    let Ok(entries) = std::fs::read_dir(steward) else { return };
    for e in entries.flatten() {
        let path = e.path();
        let alive =
            e.file_name().to_str().and_then(owner_pid).is_some_and(|pid| proc_root.join(pid.to_string()).exists());
        if !alive && path.is_dir() {
            remove_tree(&path);
        }
    }
}

/// Removes `dir` and the cgroups below it, deepest first.
fn remove_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).for_each(|p| remove_tree(&p));
    }
    let _ = std::fs::remove_dir(dir);
}

impl Cgroups {
    pub fn detect(root: &Path) -> Cgroups {
        let own = own_name();
        let proc_root = root.join("proc");
        let (v2, v1) = (detect_v2(root, &own, &proc_root), detect_v1(root, &own, &proc_root));
        let mut dirs: Vec<PathBuf> = v2.iter().cloned().collect();
        if let Some((m, c, p)) = &v1 {
            dirs.extend([m.clone(), c.clone(), p.clone()]);
        }
        Cgroups { v2, v1, idle: Arc::new(Idle { pool: Mutex::default(), own: dirs }) }
    }

    /// Done with a task's placement: its cgroups are kept for a later task with the same
    /// limits when nothing is left in them and they set no memory limit (a v1 memory cgroup
    /// keeps the page cache it was charged, which would count against the next task);
    /// removed otherwise.
    pub fn release(&self, placement: Placement, limits: &ResourceLimits) {
        if let Placement::Cgroups(_, dirs) = &placement {
            let empty = dirs.iter().all(|d| std::fs::read(d.join("cgroup.procs")).is_ok_and(|b| b.is_empty()));
            if empty
                && limits.memory_bytes == 0
                && let Ok(mut idle) = self.idle.pool.lock()
                && idle.len() < MAX_IDLE
            {
                return idle.push((*limits, placement));
            }
        }
        placement.remove();
    }

    fn reuse(&self, limits: &ResourceLimits) -> Option<Placement> {
        let mut idle = self.idle.pool.lock().ok()?;
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
        if limits.memory_bytes == 0
            && let Some(p) = self.reuse(limits)
        {
            return p;
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
            let dirs: Vec<PathBuf> =
                [(mem, limits.memory_bytes > 0), (cpu, limits.cpu_millis > 0), (pids, limits.max_pids > 0)]
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
                .filter_map(|d| {
                    std::ffi::CString::new(d.join("cgroup.procs").into_os_string().into_encoded_bytes()).ok()
                })
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

    /// The memory cgroup, whose counters say whether the task was OOM-killed.
    pub fn memory_dir(&self) -> Option<&Path> {
        match self {
            Placement::Cgroups(Mechanism::CgroupV2, dirs) => dirs.first().map(PathBuf::as_path),
            Placement::Cgroups(_, dirs) => {
                dirs.iter().find(|d| d.join("memory.limit_in_bytes").exists()).map(PathBuf::as_path)
            }
            Placement::Rlimit => None,
        }
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
fn detect_v2(root: &Path, own: &str, proc_root: &Path) -> Option<PathBuf> {
    for mount in [root.join("sys/fs/cgroup"), root.join("sys/fs/cgroup/unified")] {
        let Ok(controllers) = std::fs::read_to_string(mount.join("cgroup.controllers")) else { continue };
        let have = |c: &str| controllers.split_whitespace().any(|x| x == c);
        if !(have("cpu") && have("memory") && have("pids")) {
            continue;
        }
        let base = mount.join("steward");
        sweep_dead(&base, proc_root);
        let mine = base.join(own);
        if std::fs::create_dir_all(&mine).is_err() {
            continue;
        }
        // A task's cgroup gets the controllers only if every level above enables them.
        let enable = "+cpu +memory +pids";
        if [&mount, &base, &mine].iter().all(|d| std::fs::write(d.join("cgroup.subtree_control"), enable).is_ok()) {
            return Some(mine);
        }
        let _ = std::fs::remove_dir(&mine);
    }
    None
}

fn detect_v1(root: &Path, own: &str, proc_root: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let fs = root.join("sys/fs/cgroup");
    let cpu = if fs.join("cpu/cpu.cfs_quota_us").exists() { fs.join("cpu") } else { fs.join("cpu,cpuacct") };
    let bases = [fs.join("memory/steward"), cpu.join("steward"), fs.join("pids/steward")];
    for b in &bases {
        std::fs::create_dir_all(b).ok()?;
        sweep_dead(b, proc_root);
    }
    if !bases[0].join("memory.limit_in_bytes").exists() {
        return None;
    }
    let [m, c, p] = bases.map(|b| b.join(own));
    for d in [&m, &c, &p] {
        std::fs::create_dir_all(d).ok()?;
    }
    Some((m, c, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_without_cgroups_falls_back_to_rlimits() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cgroups::detect(dir.path());
        assert_eq!(c.mechanism(), Mechanism::Rlimit);
        assert_eq!(
            c.place("t1", &ResourceLimits { memory_bytes: 1 << 30, ..Default::default() }).mechanism(),
            Mechanism::Rlimit
        );
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
        let own = c.v2.clone().unwrap();
        assert_eq!(own.parent(), Some(fs.join("steward").as_path()), "the agent's own directory under steward/");
        let task = own.join("job_1");
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
    fn v1_tree() -> (tempfile::TempDir, PathBuf) {
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
        let (mem, cpu, pids) = c.v1.clone().unwrap();
        assert_eq!(cpu.parent(), Some(fs.join("cpu/steward").as_path()));
        let Placement::Cgroups(Mechanism::CgroupV1, dirs) =
            c.place("cpu-only", &ResourceLimits { cpu_millis: 500, ..Default::default() })
        else {
            panic!()
        };
        assert_eq!(dirs, [cpu.join("cpu-only")]);
        assert_eq!(std::fs::read_to_string(dirs[0].join("cpu.cfs_quota_us")).unwrap(), "50000");
        assert!(!mem.join("cpu-only").exists());
        let Placement::Cgroups(_, dirs) =
            c.place("all", &ResourceLimits { cpu_millis: 1000, memory_bytes: 4096, max_pids: 3 })
        else {
            panic!()
        };
        assert_eq!(dirs.len(), 3);
        assert_eq!(std::fs::read_to_string(mem.join("all/memory.limit_in_bytes")).unwrap(), "4096");
        assert_eq!(std::fs::read_to_string(pids.join("all/pids.max")).unwrap(), "3");
    }

    #[test]
    fn empty_cgroups_without_a_memory_limit_are_reused_for_the_same_limits() {
        let (dir, _) = v1_tree();
        let c = Cgroups::detect(dir.path());
        let (mem_own, cpu_own, _) = c.v1.clone().unwrap();
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
        assert_eq!(dirs(&c.place("c", &half)), [cpu_own.join("c")], "other limits get their own");
        // A process left behind (a shell's child) keeps its cgroup out of the pool.
        let d = c.place("d", &one);
        let d_dirs = dirs(&d);
        std::fs::write(d_dirs[0].join("cgroup.procs"), "4242\n").unwrap();
        c.release(d, &one);
        assert_eq!(dirs(&c.place("e", &one)), [cpu_own.join("e")]);
        // A memory limit is never pooled.
        let mem = ResourceLimits { memory_bytes: 4096, ..Default::default() };
        let m = c.place("m", &mem);
        let m_dirs = dirs(&m);
        std::fs::write(m_dirs[0].join("cgroup.procs"), "").unwrap();
        c.release(m, &mem);
        assert_eq!(dirs(&c.place("n", &mem)), [mem_own.join("n")]);
    }

    #[test]
    fn what_gone_agents_left_is_swept_and_live_agents_are_left_alone() {
        let (dir, fs) = v1_tree();
        let cpu = fs.join("cpu/steward");
        // /proc of the fixture: only pid 77 runs.
        std::fs::create_dir_all(dir.path().join("proc/77")).unwrap();
        let made = |rel: &str| {
            std::fs::create_dir_all(cpu.join(rel)).unwrap();
            cpu.join(rel)
        };
        let (dead, legacy, live) = (made("a4000000000-0/x_p0_a1"), made("x_old_p0_a1"), made("a77-3/y_p0_a1"));
        // A cgroup with a process in it cannot be removed (here: a plain file inside).
        let busy = made("a4000000001-0/z_p0_a1");
        std::fs::write(busy.join("cgroup.procs"), "4242\n").unwrap();
        let c = Cgroups::detect(dir.path());
        assert!(!dead.parent().unwrap().exists(), "a gone agent's directory is removed");
        assert!(!legacy.exists(), "the old flat layout is swept too");
        assert!(live.exists(), "a running agent's cgroups are left alone");
        assert!(busy.exists(), "a cgroup still holding a process stays");
        // Dropping the last handle removes this agent's own (empty) directories.
        let own = c.v1.clone().unwrap().1;
        assert!(own.exists());
        drop(c);
        assert!(!own.exists());
    }

    /// The same on this machine's real cgroup v1 cpu hierarchy (root only; elsewhere nothing to
    /// check): a cgroup a killed agent left behind is removed by the next agent to start.
    #[test]
    fn a_real_cgroup_left_by_a_killed_agent_is_removed() {
        let steward = Path::new("/sys/fs/cgroup/cpu/steward");
        if !steward.exists() || std::fs::create_dir_all(steward.join("a4000000002-0/left_p0_a1")).is_err() {
            return eprintln!("skipped: no writable cgroup v1 cpu hierarchy here");
        }
        let c = Cgroups::detect(Path::new("/"));
        assert!(!steward.join("a4000000002-0").exists());
        drop(c);
    }
}
