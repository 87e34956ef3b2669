//! Forecasts kept per series and refitted in the background. Fitting and backtesting weeks of
//! 1-minute history takes a fraction of a second per series in a release build (seconds in a
//! debug one), too long for a view that refreshes while a user watches it and grows with every
//! module; so a profile request reads what is kept and fits only what it has never been asked
//! for. The refit thread refits a kept forecast once the 1-minute table has moved on by
//! [`REFIT_EVERY_MS`], and forgets one nobody asked for in [`FORGET_AFTER_MS`].

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use steward_core::Reading;
use steward_core::profile::forecast::{Accuracy, Forecast, ForecastConfig, SeriesForecast};

use super::{Profiling, Target};
use crate::ApiError;
use crate::clock::now_ms;

/// How far the 1-minute table moves on before a kept forecast is refitted: its points then
/// start at most this long ago, and the refits of a series cost a fit per this long.
pub(crate) const REFIT_EVERY_MS: i64 = 5 * 60_000;
/// A forecast not read for this long is no longer refitted.
pub(crate) const FORGET_AFTER_MS: i64 = 3_600_000;
/// How often the refit thread looks for due forecasts.
const LOOK_EVERY: Duration = Duration::from_secs(10);

/// What makes two requests' forecasts the same one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    series: String,
    horizon_ms: i64,
    capacity_bits: Option<u64>,
    /// The target exceedance the upper recommendation is calibrated to (per module overridable).
    upper_exceedance_bits: Option<u64>,
}

impl Key {
    pub(crate) fn of(target: &Target, cfg: &ForecastConfig) -> Key {
        Key {
            series: target.series.clone(),
            horizon_ms: cfg.horizon_ms,
            capacity_bits: target.capacity.map(f64::to_bits),
            upper_exceedance_bits: cfg.upper_exceedance.map(f64::to_bits),
        }
    }
}

struct Kept {
    target: Target,
    cfg: ForecastConfig,
    /// The 1-minute watermark the forecast was fitted at.
    fitted_at: i64,
    read_at_ms: i64,
    forecast: SeriesForecast,
}

/// What keeping the forecasts has cost so far (logged at debug level after each refit round).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct RefitCost {
    pub fits: u64,
    pub busy: Duration,
}

#[derive(Default)]
pub(crate) struct KeptForecasts {
    kept: Mutex<HashMap<Key, Kept>>,
    cost: Mutex<RefitCost>,
}

impl KeptForecasts {
    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Kept>> {
        // Every entry is a complete forecast: a poisoned lock still holds usable ones.
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The kept forecast for `key`, marked as read at `now_ms`.
    pub(crate) fn read(&self, key: &Key, now_ms: i64) -> Option<SeriesForecast> {
        let mut kept = self.lock();
        let k = kept.get_mut(key)?;
        k.read_at_ms = now_ms;
        Some(k.forecast.clone())
    }

    pub(crate) fn keep(
        &self,
        target: &Target,
        cfg: &ForecastConfig,
        fitted_at: i64,
        forecast: SeriesForecast,
        now_ms: i64,
    ) {
        let kept = Kept { target: target.clone(), cfg: *cfg, fitted_at, read_at_ms: now_ms, forecast };
        self.lock().insert(Key::of(target, cfg), kept);
    }

    /// (series, horizon, backtest) of every kept forecast that has a backtest.
    pub(crate) fn backtests(&self) -> Vec<(String, i64, Accuracy)> {
        let kept = self.lock();
        let backtest = |k: &Kept| match &k.forecast.forecast {
            Forecast::Ready { backtest: Reading::Available { value }, .. } => Some(*value),
            _ => None,
        };
        kept.values().filter_map(|k| Some((k.forecast.series.clone(), k.forecast.horizon_ms, backtest(k)?))).collect()
    }

    fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets what nobody read lately; returns what is due for a refit at `watermark`.
    fn due(&self, watermark: i64, now_ms: i64) -> Vec<(Target, ForecastConfig)> {
        let mut kept = self.lock();
        kept.retain(|_, k| now_ms - k.read_at_ms < FORGET_AFTER_MS);
        kept.values().filter(|k| watermark - k.fitted_at >= REFIT_EVERY_MS).map(|k| (k.target.clone(), k.cfg)).collect()
    }

    /// Replaces a refitted forecast, keeping when it was last read (gone if forgotten meanwhile).
    fn replace(&self, target: &Target, cfg: &ForecastConfig, fitted_at: i64, forecast: SeriesForecast) {
        if let Some(k) = self.lock().get_mut(&Key::of(target, cfg)) {
            k.fitted_at = fitted_at;
            k.forecast = forecast;
        }
    }

    fn add_cost(&self, fits: u64, busy: Duration) {
        let mut c = self.cost.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        c.fits += fits;
        c.busy += busy;
    }

    pub(crate) fn cost(&self) -> RefitCost {
        *self.cost.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Refits every kept forecast that is due, one series at a time (the store is locked only
/// while its history is read). Returns how many were refitted.
pub(crate) fn refit_due(profiling: &Profiling) -> Result<usize, ApiError> {
    if profiling.profiler.kept.is_empty() {
        return Ok(0); // nobody asked for a forecast: no need to look at the store
    }
    let watermark = profiling.store.lock()?.minute_watermark();
    let due = profiling.profiler.kept.due(watermark, now_ms());
    let started = Instant::now();
    for (target, cfg) in &due {
        if profiling.stop.is_raised() {
            break;
        }
        let (fitted_at, mut forecast) = profiling.fit_forecasts(std::slice::from_ref(target), cfg)?;
        if let Some(f) = forecast.pop() {
            profiling.profiler.kept.replace(target, cfg, fitted_at, f);
        }
    }
    if !due.is_empty() {
        let kept = &profiling.profiler.kept;
        kept.add_cost(due.len() as u64, started.elapsed());
        let total = kept.cost();
        tracing::debug!(
            refitted = due.len(),
            fits = total.fits,
            busy_ms = total.busy.as_millis() as u64,
            "forecasts refitted"
        );
    }
    Ok(due.len())
}

/// The refit thread; it ends with the service.
pub(crate) fn spawn_refitter(profiling: Weak<Profiling>) {
    let _ = std::thread::Builder::new().name("steward-forecasts".into()).spawn(move || {
        loop {
            std::thread::sleep(LOOK_EVERY);
            let Some(profiling) = profiling.upgrade() else { return };
            if profiling.stop.is_raised() {
                return;
            }
            if let Err(e) = refit_due(&profiling) {
                tracing::warn!("refitting forecasts failed: {e}");
            }
        }
    });
}
