//! On-demand deep profiling of one module (`POST/GET /api/modules/{name}/deep-profile`): a
//! thread of its own samples only that module's processes, per thread, at the requested rate,
//! and stops at the end time, when the service stops, or when the module is deleted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use steward_core::profile::deep::{DeepProfile, DeepProfileRequest, DeepProfiler};
use steward_core::profile::module::ModuleSpec;
use steward_telemetry::module_sampler::ModuleSampler;
use steward_telemetry::processes::clock_ticks_per_s;

use crate::ApiError;
use crate::clock::now_ms;
use crate::profile::Profiling;

/// The latest deep profile of each module (running or finished), kept until the next one.
#[derive(Default)]
pub(crate) struct DeepProfiles(Mutex<HashMap<String, Arc<Mutex<DeepProfiler>>>>);

impl DeepProfiles {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Mutex<DeepProfiler>>>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn lock(p: &Mutex<DeepProfiler>) -> MutexGuard<'_, DeepProfiler> {
    p.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Profiling {
    /// Starts a deep profile of `module`; it ends by itself after `duration_s`.
    pub(crate) fn start_deep_profile(
        self: &Arc<Self>,
        module: &str,
        req: DeepProfileRequest,
    ) -> Result<DeepProfile, ApiError> {
        req.validate().map_err(ApiError::InvalidInput)?;
        let modules = self.modules();
        let spec = modules
            .iter()
            .find(|m| m.name == module)
            .ok_or_else(|| crate::profile::unknown_module(module, &modules))?
            .clone();
        let now = now_ms();
        let mut all = self.profiler.deep.lock();
        if let Some(running) = all.get(module).map(|p| lock(p).report(now)).filter(|r| r.remaining_ms > 0) {
            return Err(ApiError::InvalidInput(format!(
                "a deep profile of {module:?} is already running; it ends in {} s",
                (running.remaining_ms + 999) / 1000
            )));
        }
        let profiler = Arc::new(Mutex::new(DeepProfiler::new(module, &req, now, clock_ticks_per_s())));
        let report = lock(&profiler).report(now);
        let (weak, p) = (Arc::downgrade(self), profiler.clone());
        std::thread::Builder::new()
            .name("steward-deep-profile".into())
            .spawn(move || run(weak, spec, p))
            .map_err(|e| ApiError::Internal(format!("cannot start the deep profile thread: {e}")))?;
        all.insert(module.to_string(), profiler);
        Ok(report)
    }

    /// The latest deep profile of `module`, running or finished; `None` when none was started.
    pub(crate) fn deep_profile(&self, module: &str) -> Result<Option<DeepProfile>, ApiError> {
        let modules = self.modules();
        if !modules.iter().any(|m| m.name == module) {
            return Err(crate::profile::unknown_module(module, &modules));
        }
        Ok(self.profiler.deep.lock().get(module).map(|p| lock(p).report(now_ms())))
    }
}

/// The deep profile's sampling loop.
fn run(profiling: Weak<Profiling>, spec: ModuleSpec, profiler: Arc<Mutex<DeepProfiler>>) {
    let Some(root) = profiling.upgrade().map(|p| p.sampler_root.clone()) else { return };
    let mut sampler = ModuleSampler::new(root);
    let matches = |p: &steward_core::ProcessStats| spec.matches(p);
    let interval = i64::from(lock(&profiler).interval_ms());
    loop {
        let now = now_ms();
        let why = match profiling.upgrade() {
            None => Some("Steward stopped"),
            Some(p) if p.stop.is_raised() => Some("Steward stopped"),
            Some(p) if !p.profiler.modules().iter().any(|m| m.name == spec.name) => Some("the module was deleted"),
            Some(_) => None,
        };
        if let Some(why) = why {
            lock(&profiler).finish(now, Some(format!("ended early: {why}")));
            return;
        }
        if lock(&profiler).is_done(now) {
            return;
        }
        match sampler.sample(now, &matches) {
            Ok(procs) => lock(&profiler).observe(now, procs),
            Err(e) => {
                lock(&profiler).finish(now, Some(format!("ended early: {e}")));
                return;
            }
        }
        let ends = lock(&profiler).ends_ms();
        let next = (now + interval).min(ends);
        std::thread::sleep(Duration::from_millis((next - now_ms()).max(1) as u64));
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use steward_core::profile::deep::DeepState;
    use steward_core::profile::module::Matcher;

    use super::*;
    use crate::stop_signal::StopSignal;
    use crate::store_handle::StoreHandle;

    /// Kills the spawned process even when an assertion fails.
    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn a_real_multi_threaded_process_is_profiled_per_thread_and_the_profile_ends_by_itself() {
        // Two busy threads and a sleeping main thread.
        let child = Child(
            Command::new("perl")
                .args([
                    "-Mthreads",
                    "-e",
                    "my @t = map { threads->create(sub { my $x = 0; $x++ while 1 }) } 1..2; sleep 60",
                ])
                .stdin(Stdio::null())
                .spawn()
                .expect("perl with threads"),
        );
        let pid = child.0.id();
        let dir = tempfile::tempdir().unwrap();
        let store = StoreHandle::new(steward_store::Store::open(&dir.path().join("h.db")).unwrap());
        let config = steward_core::profile::ProfileConfig::default();
        let profiling = Arc::new(Profiling::start(store, &config, "/".into(), StopSignal::default()).unwrap());
        profiling
            .put_module(ModuleSpec { name: "burner".into(), matchers: vec![Matcher::Pids { pids: vec![pid] }] })
            .unwrap();
        let bad = profiling.start_deep_profile("burner", DeepProfileRequest { duration_s: 301, interval_ms: None });
        assert!(matches!(bad, Err(ApiError::InvalidInput(_))));
        assert_eq!(profiling.deep_profile("burner").unwrap(), None);
        assert!(matches!(profiling.deep_profile("nope"), Err(ApiError::NotFound(_))));
        assert!(matches!(
            profiling.start_deep_profile("nope", DeepProfileRequest { duration_s: 2, interval_ms: None }),
            Err(ApiError::NotFound(_))
        ));

        let started = profiling
            .start_deep_profile("burner", DeepProfileRequest { duration_s: 2, interval_ms: Some(100) })
            .unwrap();
        assert_eq!(started.state, DeepState::Running);
        assert!(
            profiling.start_deep_profile("burner", DeepProfileRequest { duration_s: 2, interval_ms: None }).is_err(),
            "one at a time"
        );
        std::thread::sleep(Duration::from_millis(1_000));
        let mid = profiling.deep_profile("burner").unwrap().unwrap();
        assert_eq!(mid.state, DeepState::Running);
        assert!(mid.remaining_ms > 0 && mid.remaining_ms <= 1_100, "{}", mid.remaining_ms);
        // Nobody stops it: it ends by itself.
        std::thread::sleep(Duration::from_millis(1_600));
        let done = profiling.deep_profile("burner").unwrap().unwrap();
        assert_eq!((done.state, done.remaining_ms, done.pids.clone()), (DeepState::Finished, 0, vec![pid]));
        let samples = done.samples;
        assert!((10..=21).contains(&samples), "about 2 s / 100 ms: {samples}");
        let busy: Vec<_> = done.threads.iter().filter(|t| t.cpu_pct > 5.0).collect();
        assert!(done.threads.len() >= 3, "{:?}", done.threads);
        assert!(busy.len() >= 2 && busy.iter().all(|t| t.pid == pid && t.tid != pid), "{:?}", done.threads);
        assert!(done.series.iter().all(|p| p.rss_bytes > 0 && p.threads >= 3));
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(profiling.deep_profile("burner").unwrap().unwrap().samples, samples, "no sampling after the end");
    }
}
