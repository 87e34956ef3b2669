//! `Steward`, the service both front doors call, and its wiring: `Steward::start` builds each
//! subsystem with the handles it uses (the store, the live feed, the stop signal, another
//! subsystem's handle) and starts their loops. Subsystems never see the service; its public
//! operations are one-line delegations, grouped by subsystem in `service/*_api.rs`.

mod accelerators_api;
mod allocation_api;
mod backend_api;
mod cluster_api;
mod degradation_api;
mod dispatch_api;
mod energy_api;
mod metrics_api;
mod modules_api;
mod profile_api;

use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use steward_core::{HistoryQuery, Inventory, SeriesHistory, Snapshot};
use steward_store::Store;
use steward_telemetry::Sampler;

use crate::allocation::Allocations;
use crate::clock::now_ms;
use crate::cluster::Cluster;
use crate::dispatch::Dispatcher;
use crate::history_writer::HistoryWriter;
use crate::live_feed::{LiveFeed, Subscription};
use crate::profile::Profiling;
use crate::sampling_loop::SamplingContext;
use crate::status::{SamplingState, Status};
use crate::stop_signal::StopSignal;
use crate::store_handle::StoreHandle;
use crate::{AdapterProbe, ApiConfig, ApiError, sampling_loop};

/// This node's inventory, with adapters enumerated the way `config` asks.
fn collect_inventory(config: &ApiConfig) -> Inventory {
    let mut inventory = steward_telemetry::inventory(&config.sampler, false);
    inventory.adapters = match &config.adapter_probe {
        AdapterProbe::InProcess => steward_telemetry::adapters::enumerate_adapters(),
        AdapterProbe::Child(exe) => steward_telemetry::adapter_probe::enumerate_adapters_in_child(exe),
        AdapterProbe::Skip => steward_core::Reading::unavailable("adapter enumeration is turned off"),
    };
    inventory
}

/// The running Steward service. Cheap to clone; the loops stop when the last clone is dropped
/// or [`Steward::shutdown`] is called.
#[derive(Clone)]
pub struct Steward {
    shared: Arc<Shared>,
    /// The external engine (`[backend]`) cluster operations go to; `None`: Steward's own.
    pub(crate) backend: Option<crate::backend::Backend>,
    _guard: Arc<LoopGuard>,
}

/// The subsystems' handles, held by the service handle (each subsystem holds only its own).
struct Shared {
    config: ApiConfig,
    inventory: Inventory,
    started_ms: i64,
    store: StoreHandle,
    live: Arc<LiveFeed>,
    history: Arc<HistoryWriter>,
    stop: StopSignal,
    allocations: Arc<Allocations>,
    profiling: Arc<Profiling>,
    cluster: Arc<Cluster>,
    dispatch: Arc<Dispatcher>,
    metrics: crate::metrics::Metrics,
    modules: Arc<crate::modules::Modules>,
    degradation: Arc<crate::degradation::Degradation>,
    power: Arc<crate::power::PowerManager>,
    meter: Arc<crate::energy::EnergyMeter>,
    accelerators: Arc<crate::accelerators::Accelerators>,
}

struct LoopGuard {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for LoopGuard {
    fn drop(&mut self) {
        self.shared.stop();
        // What the executor changed since its last pass (ended attempts are written behind).
        crate::dispatch::flush(&self.shared.dispatch);
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

impl Steward {
    /// Opens the history database and starts sampling this node.
    /// Fails, leaving the database untouched, when it is locked, unwritable or corrupt.
    pub fn start(mut config: ApiConfig) -> Result<Steward, ApiError> {
        crate::profile::keep_minutes_for_forecasts(&mut config.retention, &config.profile);
        let store = StoreHandle::new(Store::open(&config.db_path)?);
        let stop = StopSignal::default();
        let profiling =
            Arc::new(Profiling::start(store.clone(), &config.profile, config.sampler.root.clone(), stop.clone())?);
        let sampler = Sampler::new(&config.sampler);
        let metrics = crate::metrics::Metrics { sampler_cost: sampler.cost_meter() };
        let mut inventory = collect_inventory(&config);
        inventory.accelerators = crate::accelerators::local_specs(&config.accelerators, &store.lock()?.accelerators()?);
        let backend = crate::backend::connect(&config.backend, Some(store.clone()))
            .map_err(|e| ApiError::InvalidInput(format!("the [backend] of the config file is not usable: {e}")))?;
        let cluster = Arc::new(Cluster::start(store.clone())?);
        let hold = crate::degradation::hold::kept(&*store.lock()?)?;
        let allocations = Arc::new(Allocations::load(store.clone(), cluster.clone(), &inventory, &config, hold)?);
        let dispatch_context = crate::dispatch::Context {
            store: store.clone(),
            allocations: allocations.clone(),
            cluster: cluster.clone(),
            stop: stop.clone(),
        };
        let dispatch = Arc::new(Dispatcher::load(dispatch_context, config.dispatch.clone(), &config.db_path)?);
        let modules = Arc::new(crate::modules::Modules {
            registry: crate::modules::Registry::load(&*store.lock()?, now_ms())?,
            store: store.clone(),
            cluster: cluster.clone(),
            profiling: profiling.clone(),
            stop: stop.clone(),
        });
        crate::modules::start(&modules)?;
        let (wake_tx, wake_rx) = channel();
        // While a registered module is active the sampler keeps its active rate, watched or not:
        // degradation must see a constraint within seconds.
        let prompt_modules = Arc::downgrade(&modules);
        let keep_active =
            Box::new(move || prompt_modules.upgrade().is_some_and(|m| crate::degradation::needs_prompt_samples(&m)));
        let live = Arc::new(LiveFeed::new(wake_tx, keep_active));
        let meter = Arc::new(crate::energy::EnergyMeter {
            store: store.clone(),
            cluster: cluster.clone(),
            live: live.clone(),
            profiling: profiling.clone(),
            settings: config.energy.clone(),
        });
        let power = Arc::new(crate::power::PowerManager::new(
            &config,
            store.clone(),
            cluster.clone(),
            meter.clone(),
            stop.clone(),
        ));
        crate::power::spawn_restore(&power);
        let history = Arc::new(HistoryWriter::new(store.clone(), config.retention.clone()));
        let sampling = SamplingContext {
            live: live.clone(),
            history: history.clone(),
            profiling: profiling.clone(),
            cluster: cluster.clone(),
            stop: stop.clone(),
            maintenance_interval_ms: config.maintenance_interval_ms,
        };
        let thread = std::thread::Builder::new()
            .name("steward-sampler".into())
            .spawn(move || sampling_loop::run(sampling, sampler, wake_rx))
            .map_err(|e| ApiError::Internal(format!("cannot start the sampler thread: {e}")))?;
        crate::allocation::spawn_ticker(Arc::downgrade(&allocations), stop.clone());
        crate::dispatch::spawn_driver(Arc::downgrade(&dispatch));
        if config.refit_forecasts {
            crate::profile::kept::spawn_refitter(Arc::downgrade(&profiling));
        }
        let degradation_context = crate::degradation::Context {
            modules: modules.clone(),
            live: live.clone(),
            store: store.clone(),
            profiling: profiling.clone(),
            cluster: cluster.clone(),
            allocations: allocations.clone(),
            stop: stop.clone(),
        };
        let degradation = Arc::new(crate::degradation::Degradation::load(
            degradation_context,
            &config.degradation.clone().with_node_budget(config.power_budget.as_ref()),
        )?);
        crate::degradation::spawn_checker(Arc::downgrade(&degradation));
        let accelerators = Arc::new(crate::accelerators::Accelerators::new(crate::accelerators::Handles {
            configured: config.accelerators.clone(),
            adapter_probe: config.adapter_probe.clone(),
            inventory: inventory.clone(),
            sampler: config.sampler.clone(),
            store: store.clone(),
            allocations: allocations.clone(),
            cluster: cluster.clone(),
            live: live.clone(),
        }));
        let shared = Arc::new(Shared {
            config,
            inventory,
            started_ms: now_ms(),
            store,
            live,
            history,
            stop,
            allocations,
            profiling,
            cluster,
            dispatch,
            metrics,
            modules,
            degradation,
            power,
            meter,
            accelerators,
        });
        let guard = LoopGuard { shared: shared.clone(), thread: Mutex::new(Some(thread)) };
        Ok(Steward { shared, backend, _guard: Arc::new(guard) })
    }

    pub fn inventory(&self) -> Inventory {
        self.shared.inventory.clone()
    }

    pub fn status(&self) -> Status {
        let s = &self.shared;
        Status {
            version: env!("CARGO_PKG_VERSION").to_string(),
            node: s.inventory.hostname.clone(),
            db_path: s.config.db_path.display().to_string(),
            started_ms: s.started_ms,
            sampling: SamplingState { lowered_by: s.live.lowered_by(), ..SamplingState::of(s.live.sampling_mode()) },
            samples_written: s.history.samples_written(),
            last_error: s.history.last_error(),
        }
    }

    /// The most recent sample, or `None` before the first one.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.shared.live.latest()
    }

    /// Downsampled history.
    pub async fn history(&self, query: HistoryQuery) -> Result<Vec<SeriesHistory>, ApiError> {
        let problems = query.problems();
        if !problems.is_empty() {
            return Err(ApiError::InvalidFields(problems));
        }
        self.shared.store.run(move |store| Ok(store.query(&query)?)).await
    }

    pub async fn series_names(&self, prefix: String) -> Result<Vec<String>, ApiError> {
        self.shared.store.run(move |store| Ok(store.series_names(&prefix)?)).await
    }

    /// The desktop window reports whether it is visible; hidden, it slows the sampler down.
    /// Browser tabs say it per live feed instead ([`Subscription::set_visible`]), so one tab
    /// closing or going to the background never slows another that is watching.
    pub fn set_visible(&self, visible: bool) {
        self.shared.live.set_visible(visible);
    }

    /// Live snapshots from now on. Subscribing (or dropping the last subscriber) changes the
    /// sampling mode, so the sampler is told at once.
    pub fn subscribe(&self) -> Subscription {
        self.shared.live.subscribe()
    }

    /// Stops the loops after flushing pending history. Idempotent.
    pub fn shutdown(&self) {
        self.shared.stop();
        if let Some(t) = self._guard.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

impl Shared {
    fn stop(&self) {
        self.stop.raise();
        self.live.wake();
    }
}
