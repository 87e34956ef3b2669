//! Profiling as the front doors see it: the profile report, modules, and bottleneck events.
//! `Profiling` holds the live profiler state (`profiler.rs`) with what requests read: the
//! stored history and the profile settings.

pub(crate) mod kept;
mod node_usage;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use steward_core::Snapshot;
use steward_core::cluster::NodeView;
use steward_core::profile::advisor::{AdvisorInput, advise, advise_with_reasons};
use steward_core::profile::forecast::backtest::forecast;
use steward_core::profile::forecast::regular::regularize;
use steward_core::profile::forecast::{ForecastConfig, SeriesForecast};
use steward_core::profile::module::ModuleSpec;
use steward_core::profile::report::{current_usage, module_findings};
use steward_core::profile::sampling_advice::{SamplingUsage, advise_sampling};
use steward_core::profile::{
    ModuleProfile, ProfileConfig, ProfileEvent, ProfileRequest, ProfileResponse, ProfileResult, ProfilingType,
    SystemProfile, Thresholds,
};
use steward_core::{HistoryQuery, SeriesHistory};

use crate::clock::now_ms;
use crate::profiler::Profiler;
use crate::stop_signal::StopSignal;
use crate::store_handle::StoreHandle;
use crate::{ApiError, SamplingMode, SamplingState};

/// Forecasts step through the 1-minute rollups as stored.
const STEP_MS: i64 = 60_000;
/// A gap longer than this (the machine was off) starts the series afresh.
const MAX_GAP_MS: i64 = 10 * 60_000;
const MAX_HORIZON_MINUTES: u32 = 24 * 60;
/// Series that did not change over this window are named by the sampling advice.
const CONSTANT_WINDOW_MS: i64 = 86_400_000;
/// The lookup reads a day of every series: done at most this often.
const CONSTANT_EVERY_MS: i64 = 10 * 60_000;

static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// A series to forecast: name, label, unit, and the capacity no band may exceed.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    series: String,
    label: &'static str,
    unit: &'static str,
    capacity: Option<f64>,
}

/// Profiling, with the history it reads and its settings.
pub(crate) struct Profiling {
    /// Fed by the sampling loop; holds the findings, the modules, kept forecasts, deep profiles.
    pub(crate) profiler: Profiler,
    pub(crate) store: StoreHandle,
    config: ProfileConfig,
    /// The root deep profiles read processes under (`/` but in tests).
    pub(crate) sampler_root: PathBuf,
    /// The refit and deep profile threads end when it is raised.
    pub(crate) stop: StopSignal,
}

impl Profiling {
    /// Saves the config file's modules (the file wins over the database) and starts the profiler
    /// with every module the database holds.
    pub(crate) fn start(
        store: StoreHandle,
        config: &ProfileConfig,
        sampler_root: PathBuf,
        stop: StopSignal,
    ) -> Result<Profiling, ApiError> {
        config.validate().map_err(|e| ApiError::InvalidInput(format!("config file: {e}")))?;
        let modules = {
            let mut store = store.lock()?;
            for m in &config.modules {
                m.validate().map_err(|e| ApiError::InvalidInput(format!("config file: {e}")))?;
                store.put_module(m, now_ms())?;
            }
            store.modules()?
        };
        let profiler = Profiler::new(config.clone(), modules);
        Ok(Profiling { profiler, store, config: config.clone(), sampler_root, stop })
    }

    /// The profile report (`POST /resources/profile`) from `snapshot` (the latest) and, for a
    /// system profile, every node's usage (`nodes`). Blocking (SQLite, model fitting).
    pub(crate) fn profile(
        &self,
        req: ProfileRequest,
        snapshot: Option<Arc<Snapshot>>,
        nodes: impl FnOnce() -> Vec<NodeView>,
    ) -> Result<ProfileResponse, ApiError> {
        let now = now_ms();
        let horizon_minutes = req.horizon_minutes.unwrap_or(30);
        if horizon_minutes == 0 || horizon_minutes > MAX_HORIZON_MINUTES {
            return Err(ApiError::InvalidInput(format!("horizon_minutes must be between 1 and {MAX_HORIZON_MINUTES}")));
        }
        let cfg = ForecastConfig {
            horizon_ms: i64::from(horizon_minutes) * 60_000,
            step_ms: STEP_MS,
            upper_exceedance: Some(self.config.upper_exceedance(None)),
            ..ForecastConfig::default()
        };
        let snap = snapshot.map(|s| (*s).clone()).unwrap_or_else(|| Snapshot::empty(now));
        let modules = self.profiler.modules();
        let findings = self.profiler.findings();
        let result = match req.profiling_type {
            ProfilingType::System => {
                let usage = current_usage(&snap, &modules);
                let predictions = self.predict(&system_targets(&snap), &cfg)?;
                let nodes = self.node_usages(nodes(), now, &predictions, &cfg)?;
                let (mut optimization_suggestions, not_judged) = advise_with_reasons(&AdvisorInput {
                    findings: &findings,
                    forecasts: &predictions,
                    usage: &usage,
                    nodes: &nodes,
                    now_ms: now,
                });
                optimization_suggestions.extend(advise_sampling(&self.sampling_usage(now)?));
                ProfileResult::System(SystemProfile {
                    current_usage: usage,
                    bottlenecks: findings,
                    predictions,
                    optimization_suggestions,
                    not_judged,
                })
            }
            ProfilingType::Module => {
                let name =
                    req.module_name.as_deref().filter(|n| !n.is_empty()).ok_or_else(|| {
                        ApiError::InvalidInput("profiling_type \"module\" needs a module_name".into())
                    })?;
                let spec = modules.iter().find(|m| m.name == name).ok_or_else(|| unknown_module(name, &modules))?;
                let usage = current_usage(&snap, std::slice::from_ref(spec));
                let bottlenecks = module_findings(&findings, name);
                let cfg = ForecastConfig { upper_exceedance: Some(self.config.upper_exceedance(Some(name))), ..cfg };
                let predictions = self.predict(&module_targets(name, &snap), &cfg)?;
                let optimization_suggestions = advise(&AdvisorInput {
                    findings: &bottlenecks,
                    forecasts: &predictions,
                    usage: &usage,
                    nodes: &[],
                    now_ms: now,
                });
                ProfileResult::Module(ModuleProfile {
                    module_name: name.to_string(),
                    usage: usage
                        .modules
                        .into_iter()
                        .next()
                        .ok_or_else(|| ApiError::Internal("module usage missing".into()))?,
                    bottlenecks,
                    predictions,
                    optimization_suggestions,
                })
            }
        };
        let request_id = req.id.unwrap_or_else(|| format!("prof-{now:x}-{}", REQUESTS.fetch_add(1, Ordering::Relaxed)));
        Ok(ProfileResponse { request_id, timestamp: now, profiling_type: req.profiling_type, result })
    }

    /// Forecasts for `targets`: the kept ones, and those never asked for fitted now and kept.
    fn predict(&self, targets: &[Target], cfg: &ForecastConfig) -> Result<Vec<SeriesForecast>, ApiError> {
        let kept = &self.profiler.kept;
        let now = now_ms();
        targets
            .iter()
            .map(|t| match kept.read(&kept::Key::of(t, cfg), now) {
                Some(f) => Ok(f),
                None => {
                    let (fitted_at, mut fitted) = self.fit_forecasts(std::slice::from_ref(t), cfg)?;
                    let f = fitted.pop().ok_or_else(|| ApiError::Internal("no forecast fitted".into()))?;
                    kept.keep(t, cfg, fitted_at, f.clone(), now);
                    Ok(f)
                }
            })
            .collect()
    }

    /// What the sampling advice needs: the full-rate stretch and the series history keeps
    /// although they did not change (looked up at most every `CONSTANT_EVERY_MS`).
    fn sampling_usage(&self, now: i64) -> Result<SamplingUsage, ApiError> {
        let (active_since_ms, series_per_sample) = self.profiler.sampling();
        let cached = self.profiler.constant_series().filter(|c| now - c.0 < CONSTANT_EVERY_MS);
        let (_, series_seen, constant_series) = match cached {
            Some(c) => c,
            None => {
                let found = self.find_constant_series(now)?;
                self.profiler.set_constant_series(found.clone());
                found
            }
        };
        Ok(SamplingUsage {
            now_ms: now,
            active_since_ms,
            active_interval_ms: SamplingState::of(SamplingMode::Active).interval_ms.into(),
            hidden_interval_ms: SamplingState::of(SamplingMode::Hidden).interval_ms.into(),
            series_per_sample,
            series_seen,
            constant_series,
            window_ms: CONSTANT_WINDOW_MS,
        })
    }

    /// Series with values in both halves of the window and min = max over all of it.
    fn find_constant_series(&self, now: i64) -> Result<(i64, usize, Vec<String>), ApiError> {
        let store = self.store.lock()?;
        let names = store.series_names("")?;
        let query = HistoryQuery { series: names, from_ms: now - CONSTANT_WINDOW_MS, to_ms: now, max_points: 2 };
        let history = store.query(&query)?;
        let covered: Vec<&SeriesHistory> = history.iter().filter(|h| h.points.len() == 2).collect();
        let constant = covered
            .iter()
            .filter(|h| {
                let (lo, hi) = h
                    .points
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.min), hi.max(p.max)));
                lo == hi
            })
            .map(|h| h.series.clone())
            .collect();
        Ok((now, covered.len(), constant))
    }

    pub(crate) fn modules(&self) -> Vec<ModuleSpec> {
        self.profiler.modules()
    }

    /// Creates or replaces a module; it is matched from the next sample on.
    pub(crate) fn put_module(&self, spec: ModuleSpec) -> Result<ModuleSpec, ApiError> {
        spec.validate().map_err(ApiError::InvalidInput)?;
        let mut store = self.store.lock()?;
        store.put_module(&spec, now_ms())?;
        self.profiler.set_modules(store.modules()?);
        Ok(spec)
    }

    pub(crate) fn delete_module(&self, name: &str) -> Result<(), ApiError> {
        let mut store = self.store.lock()?;
        if !store.delete_module(name)? {
            return Err(unknown_module(name, &store.modules()?));
        }
        self.profiler.set_modules(store.modules()?);
        Ok(())
    }

    /// Bottleneck findings starting and ending since `since_ms`, oldest first.
    pub(crate) fn profile_events(&self, since_ms: i64) -> Result<Vec<ProfileEvent>, ApiError> {
        Ok(self.store.lock()?.profile_events(since_ms, 1_000)?)
    }

    pub(crate) fn thresholds(&self) -> Thresholds {
        self.profiler.thresholds()
    }
}

pub(crate) fn unknown_module(name: &str, modules: &[ModuleSpec]) -> ApiError {
    let known: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
    ApiError::NotFound(if known.is_empty() {
        format!("no module named {name:?}: no modules are defined yet")
    } else {
        format!("no module named {name:?}; defined modules: {}", known.join(", "))
    })
}

fn memory_total(snap: &Snapshot) -> Option<f64> {
    snap.memory.value().map(|m| m.total_bytes as f64)
}

fn system_targets(snap: &Snapshot) -> Vec<Target> {
    let mut t = vec![
        Target { series: "cpu.total".into(), label: "CPU", unit: "%", capacity: Some(100.0) },
        Target { series: "mem.used".into(), label: "memory", unit: "bytes", capacity: memory_total(snap) },
    ];
    for g in snap.gpus.value().into_iter().flatten() {
        t.push(Target {
            series: format!("gpu.{}.util", g.index),
            label: "GPU utilization",
            unit: "%",
            capacity: Some(100.0),
        });
        t.push(Target {
            series: format!("gpu.{}.mem_used", g.index),
            label: "GPU memory",
            unit: "bytes",
            capacity: g.memory_total_bytes.value().map(|v| *v as f64),
        });
    }
    t
}

fn module_targets(name: &str, snap: &Snapshot) -> Vec<Target> {
    let cores = snap.cpu.value().map(|c| c.per_core_pct.len() as f64);
    let mut t = vec![
        Target {
            series: format!("module.{name}.cpu"),
            label: "CPU",
            unit: "% of a core",
            capacity: cores.map(|c| c * 100.0),
        },
        Target { series: format!("module.{name}.rss"), label: "memory", unit: "bytes", capacity: memory_total(snap) },
    ];
    if snap.gpus.value().is_some_and(|g| !g.is_empty()) {
        t.push(Target { series: format!("module.{name}.gpu_mem"), label: "GPU memory", unit: "bytes", capacity: None });
    }
    t
}

/// Keeps 1-minute rollups as long as forecasts read them (an hour more: rollups are pruned on
/// hour boundaries).
pub(crate) fn keep_minutes_for_forecasts(retention: &mut steward_store::RetentionPolicy, profile: &ProfileConfig) {
    retention.minute_ms = retention.minute_ms.max(profile.history_ms() + steward_store::HOUR_MS);
}

impl Profiling {
    /// Forecasts for `targets` from the stored 1-minute history: the `history_days` before the
    /// 1-minute table's end, so the same stored history gives the same forecast at any time.
    /// Returns the watermark they were fitted at with them.
    pub(crate) fn fit_forecasts(
        &self,
        targets: &[Target],
        cfg: &ForecastConfig,
    ) -> Result<(i64, Vec<SeriesForecast>), ApiError> {
        let (watermark, history) = {
            let store = self.store.lock()?;
            let watermark = store.minute_watermark();
            let from_ms = watermark.saturating_sub(self.config.history_ms());
            let history: Vec<Vec<(i64, f64)>> =
                targets.iter().map(|t| store.minute_means(&t.series, from_ms)).collect::<Result<_, _>>()?;
            (watermark, history)
        };
        let forecasts = targets
            .iter()
            .zip(history)
            .map(|(t, points)| {
                let (start, values) = regularize(&points, cfg.step_ms, MAX_GAP_MS);
                let cfg = ForecastConfig { capacity: t.capacity, ..*cfg };
                SeriesForecast {
                    series: t.series.clone(),
                    label: t.label.into(),
                    unit: t.unit.into(),
                    horizon_ms: cfg.horizon_ms,
                    forecast: forecast(&values, start, &cfg),
                }
            })
            .collect();
        Ok((watermark, forecasts))
    }

    /// Logs `events` and keeps them in the store.
    pub(crate) fn record_events(&self, events: &[ProfileEvent]) {
        if events.is_empty() {
            return;
        }
        for e in events {
            tracing::info!(key = %e.key, kind = e.kind.as_str(), "{}", e.summary);
        }
        let result = self.store.lock().and_then(|mut s| Ok(s.insert_profile_events(events)?));
        if let Err(e) = result {
            tracing::warn!("recording profile events failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use steward_core::profile::advisor::SuggestionKind;
    use steward_core::series::SeriesValue;

    use super::*;
    use crate::history_writer::HistoryWriter;

    /// Profiling over a real database in `dir`, and the writer the sampling loop would use,
    /// keeping history as the service does.
    fn profiling_in(dir: &std::path::Path) -> (Profiling, HistoryWriter) {
        let store = StoreHandle::new(steward_store::Store::open(&dir.join("h.db")).unwrap());
        let config = ProfileConfig::default();
        let mut retention = steward_store::RetentionPolicy::default();
        keep_minutes_for_forecasts(&mut retention, &config);
        let profiling = Profiling::start(store.clone(), &config, PathBuf::from("/"), StopSignal::default()).unwrap();
        (profiling, HistoryWriter::new(store, retention))
    }

    #[test]
    fn series_that_never_changed_in_a_day_are_suggested_away() {
        let dir = tempfile::tempdir().unwrap();
        let (profiling, history) = profiling_in(dir.path());
        let now = now_ms();
        // A day of one-minute values: six flat series and one that moves.
        let batch: Vec<(i64, Vec<SeriesValue>)> = (0..1440)
            .map(|i| {
                let mut v: Vec<SeriesValue> =
                    (0..6).map(|k| SeriesValue { series: format!("test.flat{k}"), value: 7.0 }).collect();
                v.push(SeriesValue { series: "test.moving".into(), value: f64::from(i % 10) });
                (now - 86_400_000 + 30_000 + i64::from(i) * 60_000, v)
            })
            .collect();
        history.write(&batch);
        history.maintain(now);
        let usage = profiling.sampling_usage(now).unwrap();
        let flat: Vec<&str> =
            usage.constant_series.iter().map(String::as_str).filter(|s| s.starts_with("test.")).collect();
        assert_eq!(flat, ["test.flat0", "test.flat1", "test.flat2", "test.flat3", "test.flat4", "test.flat5"]);
        let s = advise_sampling(&usage);
        assert!(s.iter().any(|s| s.kind == SuggestionKind::LowerSampling && s.title.contains("test.flat0")), "{s:?}");
    }

    /// Profiling whose history holds `days` of a daily cycle in `test.load`, ending an hour ago,
    /// rolled up.
    fn profiling_with_history(dir: &std::path::Path, days: i64) -> (Profiling, HistoryWriter, i64) {
        profiling_with_series(dir, "test.load", days, 3_600_000)
    }

    /// `days` of a daily cycle in `series` ending `ago_ms` before now, rolled up.
    fn profiling_with_series(
        dir: &std::path::Path,
        series: &str,
        days: i64,
        ago_ms: i64,
    ) -> (Profiling, HistoryWriter, i64) {
        let (profiling, history) = profiling_in(dir);
        let now = now_ms();
        let end = now - ago_ms;
        let values = steward_core::profile::traces::Family::Diurnal.generate(7, days as usize);
        let batch: Vec<(i64, Vec<SeriesValue>)> = values
            .iter()
            .enumerate()
            .flat_map(|(i, v)| {
                // Two samples a minute, 20 s apart: a minute's mean is their mean.
                let t = end - (values.len() - i) as i64 * 60_000 + 10_000;
                let s = |value| vec![SeriesValue { series: series.into(), value }];
                [(t, s(v - 1.0)), (t + 20_000, s(v + 1.0))]
            })
            .collect();
        history.write(&batch);
        history.maintain(now);
        (profiling, history, now)
    }

    fn load_target() -> Vec<Target> {
        vec![Target { series: "test.load".into(), label: "load", unit: "%", capacity: Some(100.0) }]
    }

    #[test]
    fn the_same_history_gives_the_same_forecast_at_any_request_time() {
        let dir = tempfile::tempdir().unwrap();
        let (profiling, history, now) = profiling_with_history(dir.path(), 3);
        let cfg = ForecastConfig::default();
        let first = profiling.fit_forecasts(&load_target(), &cfg).unwrap().1;
        assert!(matches!(first[0].forecast, steward_core::profile::forecast::Forecast::Ready { .. }), "{first:?}");
        // Within the same minute, and minutes later with nothing new stored: rollups and
        // retention run at the later time, the window moves with them, the forecast does not.
        for later in [1, 29_999, 59_999, 60_000, 61_000, 7 * 60_000 + 13_000, 3_600_000] {
            history.maintain(now + later);
            let again = profiling.fit_forecasts(&load_target(), &cfg).unwrap().1;
            assert_eq!(again, first, "a request {later} ms later");
        }
    }

    #[test]
    fn all_the_history_up_to_the_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let (profiling, ..) = profiling_with_history(dir.path(), 9);
        let got = profiling.fit_forecasts(&load_target(), &ForecastConfig::default()).unwrap().1;
        let steward_core::profile::forecast::Forecast::Ready { backtest, .. } = &got[0].forecast else {
            panic!("{got:?}")
        };
        // Origins are scored over the 60 % after the fit: nine days give over five days of them.
        let origins = backtest.value().unwrap().origins;
        assert!(origins > 5 * 1440, "{origins} origins: not all nine days were read");
    }

    #[test]
    fn with_two_weeks_of_history_a_profile_request_reads_kept_forecasts() {
        let dir = tempfile::tempdir().unwrap();
        let (profiling, ..) = profiling_with_series(dir.path(), "cpu.total", 14, 0);
        let req = || ProfileRequest {
            id: None,
            profiling_type: ProfilingType::System,
            module_name: None,
            horizon_minutes: None,
        };
        profiling.profile(req(), None, Vec::new).unwrap();
        let started = std::time::Instant::now();
        let answer = profiling.profile(req(), None, Vec::new).unwrap();
        // Generous for a debug build on a loaded CI machine; a refit takes seconds there.
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_millis(1_000), "{took:?}");
        let ProfileResult::System(system) = answer.result else { panic!("{answer:?}") };
        let cpu = system.predictions.iter().find(|p| p.series == "cpu.total").unwrap();
        let steward_core::profile::forecast::Forecast::Ready { model, .. } = &cpu.forecast else { panic!("{cpu:?}") };
        assert_eq!(model, "holt_winters_daily");
    }

    #[test]
    fn kept_forecasts_are_refitted_once_the_minutes_move_on() {
        let dir = tempfile::tempdir().unwrap();
        let (profiling, history, now) = profiling_with_series(dir.path(), "test.load", 3, 0);
        let cfg = ForecastConfig::default();
        let kept = profiling.predict(&load_target(), &cfg).unwrap();
        assert_eq!(kept::refit_due(&profiling).unwrap(), 0, "nothing new: nothing to refit");
        // Ten more minutes of history, rolled up: the kept forecast is behind, the refit catches up.
        let batch: Vec<(i64, Vec<SeriesValue>)> = (0..10)
            .map(|i| (now + i * 60_000, vec![SeriesValue { series: "test.load".into(), value: 90.0 }]))
            .collect();
        history.write(&batch);
        history.maintain(now + 11 * 60_000);
        let fresh = profiling.fit_forecasts(&load_target(), &cfg).unwrap().1;
        assert_ne!(fresh, kept);
        assert_eq!(profiling.predict(&load_target(), &cfg).unwrap(), kept, "a request only reads");
        assert_eq!(kept::refit_due(&profiling).unwrap(), 1);
        assert_eq!(profiling.predict(&load_target(), &cfg).unwrap(), fresh);
        assert_eq!(profiling.profiler.kept.cost().fits, 1);
    }

    #[test]
    fn a_forecast_kept_for_one_exceedance_target_is_not_read_for_another() {
        let dir = tempfile::tempdir().unwrap();
        let (profiling, ..) = profiling_with_series(dir.path(), "test.load", 3, 0);
        let at = |pct: f64| ForecastConfig { upper_exceedance: Some(pct / 100.0), ..ForecastConfig::default() };
        let upper = |f: &[SeriesForecast]| match &f[0].forecast {
            steward_core::profile::forecast::Forecast::Ready { upper_recommendation, .. } => *upper_recommendation,
            other => panic!("{other:?}"),
        };
        let strict = upper(&profiling.predict(&load_target(), &at(1.0)).unwrap());
        let loose = upper(&profiling.predict(&load_target(), &at(20.0)).unwrap());
        // A module's own `upper_exceedance_pct` must get its own calibration, not another's.
        assert!(loose < strict, "20 % target {loose} vs 1 % target {strict}");
        assert_eq!(upper(&profiling.predict(&load_target(), &at(1.0)).unwrap()), strict);
    }
}
