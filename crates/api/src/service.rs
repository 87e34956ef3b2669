use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use steward_core::series::SeriesValue;
use steward_core::{HistoryQuery, Inventory, SeriesHistory, Snapshot};
use steward_store::Store;
use steward_telemetry::Sampler;
use tokio::sync::broadcast;

use crate::clock::now_ms;
use crate::status::{SamplingMode, SamplingState, Status};
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
    pub(crate) shared: Arc<Shared>,
    _guard: Arc<LoopGuard>,
}

/// State shared between the service handle and its background loop.
pub(crate) struct Shared {
    pub(crate) config: ApiConfig,
    store: Mutex<Store>,
    pub(crate) inventory: Inventory,
    started_ms: i64,
    latest: RwLock<Option<Arc<Snapshot>>>,
    live: broadcast::Sender<Arc<Snapshot>>,
    visible: AtomicBool,
    /// Subscriptions whose viewer said it is hidden (a background browser tab).
    hidden_subscriptions: AtomicUsize,
    samples_written: AtomicU64,
    last_error: Mutex<Option<String>>,
    stopping: AtomicBool,
    wake: Mutex<Sender<()>>,
    pub(crate) allocations: crate::allocation::Allocations,
    pub(crate) profiler: crate::profiler::Profiler,
    pub(crate) cluster: crate::cluster::Cluster,
    pub(crate) dispatch: crate::dispatch::Dispatcher,
    pub(crate) accelerators: crate::accelerators::Accelerators,
}

struct LoopGuard {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for LoopGuard {
    fn drop(&mut self) {
        self.shared.stop();
        // What the executor changed since its last pass (ended attempts are written behind).
        crate::dispatch::flush(&self.shared);
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
        let mut store = Store::open(&config.db_path)?;
        let profiler = crate::profile::start_profiler(&mut store, &config.profile)?;
        let sampler = Sampler::new(&config.sampler);
        let accelerators = crate::accelerators::Accelerators::new(config.accelerators.clone());
        let mut inventory = collect_inventory(&config);
        inventory.accelerators = accelerators.local_specs(&store.accelerators()?);
        let allocations = crate::allocation::Allocations::load(&store, &inventory, &config)?;
        let cluster = crate::cluster::Cluster::start(store.nodes()?)?;
        let dispatch = crate::dispatch::Dispatcher::load(&store, config.dispatch.clone(), &config.db_path)?;
        let (wake_tx, wake_rx) = channel();
        let (live, _) = broadcast::channel(16);
        let shared = Arc::new(Shared {
            config,
            store: Mutex::new(store),
            inventory,
            started_ms: now_ms(),
            latest: RwLock::new(None),
            live,
            visible: AtomicBool::new(true),
            hidden_subscriptions: AtomicUsize::new(0),
            samples_written: AtomicU64::new(0),
            last_error: Mutex::new(None),
            stopping: AtomicBool::new(false),
            wake: Mutex::new(wake_tx),
            allocations,
            profiler,
            cluster,
            dispatch,
            accelerators,
        });
        let loop_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("steward-sampler".into())
            .spawn(move || sampling_loop::run(loop_shared, sampler, wake_rx))
            .map_err(|e| ApiError::Internal(format!("cannot start the sampler thread: {e}")))?;
        let guard = LoopGuard { shared: shared.clone(), thread: Mutex::new(Some(thread)) };
        crate::allocation::spawn_ticker(Arc::downgrade(&shared));
        crate::dispatch::spawn_driver(Arc::downgrade(&shared));
        if shared.config.refit_forecasts {
            crate::profile::kept::spawn_refitter(Arc::downgrade(&shared));
        }
        Ok(Steward { shared, _guard: Arc::new(guard) })
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
            sampling: SamplingState::of(s.sampling_mode()),
            samples_written: s.samples_written.load(Ordering::Relaxed),
            last_error: s.last_error.lock().ok().and_then(|e| e.clone()),
        }
    }

    /// The most recent sample, or `None` before the first one.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.shared.latest.read().ok().and_then(|l| l.clone())
    }

    /// Downsampled history.
    pub async fn history(&self, query: HistoryQuery) -> Result<Vec<SeriesHistory>, ApiError> {
        let problems = query.problems();
        if !problems.is_empty() {
            return Err(ApiError::InvalidFields(problems));
        }
        self.with_store(move |store| Ok(store.query(&query)?)).await
    }

    pub async fn series_names(&self, prefix: String) -> Result<Vec<String>, ApiError> {
        self.with_store(move |store| Ok(store.series_names(&prefix)?)).await
    }

    /// Runs `f` on the store off the async threads: SQLite calls block.
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || f(&mut *shared.lock_store()?))
            .await
            .map_err(|e| ApiError::Internal(format!("store task failed: {e}")))?
    }

    /// The desktop window reports whether it is visible; hidden, it slows the sampler down.
    /// Browser tabs say it per live feed instead ([`Subscription::set_visible`]), so one tab
    /// closing or going to the background never slows another that is watching.
    pub fn set_visible(&self, visible: bool) {
        self.shared.visible.store(visible, Ordering::Relaxed);
        self.shared.wake();
    }

    /// Live snapshots from now on. Subscribing (or dropping the last subscriber) changes the
    /// sampling mode, so the sampler is told at once.
    pub fn subscribe(&self) -> Subscription {
        let rx = self.shared.live.subscribe();
        self.shared.wake();
        Subscription { rx, shared: self.shared.clone(), hidden: false }
    }

    /// Stops the loops after flushing pending history. Idempotent.
    pub fn shutdown(&self) {
        self.shared.stop();
        if let Some(t) = self._guard.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

/// A live feed of snapshots; dropping it may let the sampler slow down.
pub struct Subscription {
    rx: broadcast::Receiver<Arc<Snapshot>>,
    shared: Arc<Shared>,
    hidden: bool,
}

impl Subscription {
    /// The next snapshot; `None` when the service stopped. A slow reader skips missed ones.
    pub async fn next(&mut self) -> Option<Arc<Snapshot>> {
        loop {
            match self.rx.recv().await {
                Ok(s) => return Some(s),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl Subscription {
    /// Whether the viewer of this feed can see it: sampling slows down only when every
    /// subscriber is hidden.
    pub fn set_visible(&mut self, visible: bool) {
        if self.hidden != visible {
            return;
        }
        self.hidden = !visible;
        if self.hidden {
            self.shared.hidden_subscriptions.fetch_add(1, Ordering::Relaxed);
        } else {
            self.shared.hidden_subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
        self.shared.wake();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if self.hidden {
            self.shared.hidden_subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
        self.shared.wake();
    }
}

impl Shared {
    pub(crate) fn sampling_mode(&self) -> SamplingMode {
        // The loop's own receiver does not exist; every receiver is a UI or API client.
        let subscribers = self.live.receiver_count();
        let all_hidden = self.hidden_subscriptions.load(Ordering::Relaxed) >= subscribers;
        if subscribers == 0 {
            SamplingMode::Idle
        } else if self.visible.load(Ordering::Relaxed) && !all_hidden {
            SamplingMode::Active
        } else {
            SamplingMode::Hidden
        }
    }

    pub(crate) fn publish(&self, snapshot: Arc<Snapshot>) {
        if let Ok(mut l) = self.latest.write() {
            *l = Some(snapshot.clone());
        }
        let _ = self.live.send(snapshot);
    }

    pub(crate) fn write_history(&self, batch: &[(i64, Vec<SeriesValue>)]) {
        if batch.is_empty() {
            return;
        }
        let result = self
            .lock_store()
            .and_then(|mut store| Ok(store.insert_batch(batch.iter().map(|(ts, v)| (*ts, v.as_slice())))?));
        match result {
            Ok(()) => {
                let n: usize = batch.iter().map(|(_, v)| v.len()).sum();
                self.samples_written.fetch_add(n as u64, Ordering::Relaxed);
                self.clear_error();
            }
            Err(e) => self.record_error(format!("writing history failed: {e}")),
        }
    }

    pub(crate) fn maintain(&self, now_ms: i64) {
        let result =
            self.lock_store().and_then(|mut store| Ok(store.maintain(now_ms, &self.config.retention).map(|_| ())?));
        if let Err(e) = result {
            self.record_error(format!("history maintenance failed: {e}"));
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.wake();
    }

    fn wake(&self) {
        if let Ok(tx) = self.wake.lock() {
            let _ = tx.send(());
        }
    }

    pub(crate) fn lock_store(&self) -> Result<std::sync::MutexGuard<'_, Store>, ApiError> {
        self.store.lock().map_err(|_| ApiError::Internal("history store lock poisoned".into()))
    }

    fn record_error(&self, message: String) {
        tracing::warn!("{message}");
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(message);
        }
    }

    fn clear_error(&self) {
        if let Ok(mut e) = self.last_error.lock() {
            e.take();
        }
    }
}
