//! The live side of profiling: a window of the snapshots the sampler already takes, the
//! bottleneck tracker, and the module list. The sampling loop feeds it one snapshot per tick;
//! requests read its findings and the forecasts kept for them (`profile::kept`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use steward_core::Snapshot;
use steward_core::profile::module::{self, ModuleSpec};
use steward_core::profile::window::Context;
use steward_core::profile::{Finding, ProfileConfig, ProfileEvent, Thresholds, Tracker, rules};
use steward_core::series::SeriesValue;

use crate::SamplingMode;

pub(crate) struct Profiler {
    state: Mutex<State>,
    pub(crate) deep: crate::deep_profile::DeepProfiles,
    pub(crate) kept: crate::profile::kept::KeptForecasts,
}

struct State {
    config: ProfileConfig,
    window: VecDeque<Arc<Snapshot>>,
    tracker: Tracker,
    modules: Vec<ModuleSpec>,
    /// PIDs of modules registered on this node, by name: joined to `modules` as pids matchers.
    registered: BTreeMap<String, Vec<u32>>,
    /// Since when the sampler has run at full rate without a break (for the sampling advice).
    active_since_ms: Option<i64>,
    /// Values the last tick wrote to history.
    series_per_sample: usize,
    /// When the unchanging series were last looked up, how many series there were, and which.
    constant: Option<(i64, usize, Vec<String>)>,
}

impl Profiler {
    pub(crate) fn new(config: ProfileConfig, modules: Vec<ModuleSpec>) -> Self {
        Profiler {
            state: Mutex::new(State {
                config,
                window: VecDeque::new(),
                tracker: Tracker::new(),
                modules,
                registered: BTreeMap::new(),
                active_since_ms: None,
                series_per_sample: 0,
                constant: None,
            }),
            deep: Default::default(),
            kept: Default::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is rebuilt from the next samples anyway: a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One sampling tick in `mode`, writing `written` values: the modules' usage as history
    /// series, and the events it causes.
    pub(crate) fn observe(
        &self,
        snap: &Arc<Snapshot>,
        mode: SamplingMode,
        written: usize,
    ) -> (Vec<SeriesValue>, Vec<ProfileEvent>) {
        let mut s = self.lock();
        s.active_since_ms = if mode == SamplingMode::Active { s.active_since_ms.or(Some(snap.ts_ms)) } else { None };
        s.window.push_back(snap.clone());
        let cutoff = snap.ts_ms - s.config.window_ms;
        while s.window.front().is_some_and(|w| w.ts_ms < cutoff) {
            s.window.pop_front();
        }
        let modules = module::join_registered(&s.modules, &s.registered);
        let series: Vec<SeriesValue> =
            modules.iter().flat_map(|m| module::usage_series(&module::usage(m, snap))).collect();
        s.series_per_sample = written + series.len();
        let samples: Vec<&Snapshot> = s.window.iter().map(|a| &**a).collect();
        let active = s.tracker.active_keys();
        let fired = rules::evaluate(&Context {
            samples: &samples,
            thresholds: &s.config.thresholds,
            active: &active,
            modules: &modules,
        });
        let clear = s.config.thresholds.clear_after_ms;
        let events = s.tracker.update(snap.ts_ms, fired, clear);
        (series, events)
    }

    pub(crate) fn findings(&self) -> Vec<Finding> {
        self.lock().tracker.findings()
    }

    /// The configured modules, with registered modules' PIDs joined in.
    pub(crate) fn modules(&self) -> Vec<ModuleSpec> {
        let s = self.lock();
        module::join_registered(&s.modules, &s.registered)
    }

    pub(crate) fn set_registered_pids(&self, pids: BTreeMap<String, Vec<u32>>) {
        self.lock().registered = pids;
    }

    pub(crate) fn set_modules(&self, modules: Vec<ModuleSpec>) {
        self.lock().modules = modules;
    }

    /// Since when sampling has been at full rate, and how many values a sample writes.
    pub(crate) fn sampling(&self) -> (Option<i64>, usize) {
        let s = self.lock();
        (s.active_since_ms, s.series_per_sample)
    }

    pub(crate) fn constant_series(&self) -> Option<(i64, usize, Vec<String>)> {
        self.lock().constant.clone()
    }

    pub(crate) fn set_constant_series(&self, found: (i64, usize, Vec<String>)) {
        self.lock().constant = Some(found);
    }

    pub(crate) fn thresholds(&self) -> Thresholds {
        self.lock().config.thresholds.clone()
    }
}
