//! Allocation and reservations as the front doors see them: every operation ticks the scheduler
//! to the present, applies the request, and commits every change (and the request's answer)
//! before answering. A failed commit reloads the scheduler from the store, so memory never runs
//! ahead of what is on disk.

pub(crate) mod body;
mod idempotency;
mod legacy_names;
mod local_node;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::Value;
use steward_core::alloc::time::{format_rfc3339, parse_rfc3339};
use steward_core::alloc::{
    AllocState, Allocation, Event, FieldError, NodeResources, Reservation, ReservationChange, ReservationError,
    Scheduler, SchedulerConfig, Stats, ics, without_instance_slots,
};
use steward_core::cluster::NodeHealth;
use steward_core::degrade::AllocationHold;
use steward_store::{RequestAnswer, Store};

pub use body::{AllocateResponse, AllocateResult, AllocationType, GrantedResources};

use crate::clock::now_ms;
use crate::cluster::Cluster;
use crate::stop_signal::StopSignal;
use crate::store_handle::StoreHandle;
use crate::{ApiConfig, ApiError};
use body::Parsed;

/// Why an allocation operation failed; front doors map each variant to a status.
#[derive(Debug, thiserror::Error)]
pub enum AllocError {
    /// The request is malformed (HTTP 400 with `errors`).
    #[error("invalid request: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    NotFound(String),
    /// Refused by the rules (HTTP 409), e.g. a move onto a reserved GPU.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<steward_store::StoreError> for AllocError {
    fn from(e: steward_store::StoreError) -> Self {
        AllocError::Api(ApiError::Store(e))
    }
}

/// The scheduler and what it was built from, with the store it commits to and the cluster whose
/// nodes it allocates.
pub(crate) struct Allocations {
    scheduler: Mutex<Scheduler>,
    store: StoreHandle,
    cluster: Arc<Cluster>,
    config: SchedulerConfig,
    next_id: AtomicU64,
    /// The cluster's resources epoch the scheduler's nodes were last synced with.
    cluster_epoch: AtomicU64,
    /// The name older records give this machine (see `legacy_names`).
    hostname: String,
    /// Degradation's hold on QoS classes, applied before every tick (so a reload keeps it).
    hold: Mutex<AllocationHold>,
}

impl Allocations {
    /// Rebuilds the scheduler from the store, with this machine as its first node (remote
    /// nodes join as the cluster learns their resources, see `sync_nodes`).
    pub(crate) fn load(
        store: StoreHandle,
        cluster: Arc<Cluster>,
        inventory: &steward_core::Inventory,
        config: &ApiConfig,
        hold: AllocationHold,
    ) -> Result<Allocations, ApiError> {
        let nodes = vec![local_node::local_node(inventory, &config.sampler, now_ms())];
        let config = SchedulerConfig {
            quotas: config.quotas.clone(),
            power_budget: config.power_budget.clone(),
            ..SchedulerConfig::default()
        };
        let hostname = inventory.hostname.clone();
        let scheduler = restore(&*store.lock()?, &nodes, &config, &hostname)?;
        Ok(Allocations {
            scheduler: Mutex::new(scheduler),
            store,
            cluster,
            config,
            next_id: AtomicU64::new(0),
            cluster_epoch: AtomicU64::new(0),
            hostname,
            hold: Mutex::new(hold),
        })
    }
}

/// What the scheduler holds and has decided, for `/metrics`.
pub(crate) struct SchedulerFigures {
    pub(crate) queued: usize,
    /// Allocations that have not ended, by state.
    pub(crate) by_state: Vec<(AllocState, usize)>,
    pub(crate) stats: Stats,
}

impl Allocations {
    pub(crate) fn figures(&self) -> SchedulerFigures {
        let sched = self.scheduler.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let by_state = crate::metrics::tally(sched.allocations().iter().map(|a| a.state).filter(|s| !s.is_terminal()));
        SchedulerFigures { queued: sched.queued(), by_state, stats: sched.stats }
    }
}

/// Brings the scheduler's remote nodes in line with the cluster when it changed: nodes whose
/// resources are known join (or are updated, when they reconnect with other GPUs) and are
/// allocated like the local one; each follows its state (only an up node takes new work, a
/// down one's allocations are given up after a grace); removed nodes leave.
fn sync_nodes(a: &Allocations, sched: &mut Scheduler, now: i64) {
    let epoch = a.cluster.resources_epoch();
    if a.cluster_epoch.swap(epoch, Ordering::AcqRel) == epoch {
        return;
    }
    let cluster = a.cluster.node_states();
    for (id, state, res) in &cluster {
        // Resources are read again only from an up node (a reconnect), never from a failing one.
        if let Some(res) = res.clone().filter(|_| *state == NodeHealth::Up) {
            sched.put_node(res, now);
        }
        sched.set_node_state(id, *state, now);
    }
    // The first node is this machine; every other one is a cluster node.
    let gone: Vec<String> =
        sched.nodes().skip(1).map(|n| n.node.clone()).filter(|n| !cluster.iter().any(|(id, ..)| id == n)).collect();
    for n in gone {
        sched.remove_node(&n, now);
    }
}

fn restore(
    store: &Store,
    nodes: &[NodeResources],
    config: &SchedulerConfig,
    hostname: &str,
) -> Result<Scheduler, ApiError> {
    let mut state = store.load_allocation_state()?;
    legacy_names::rename_local(&mut state, hostname);
    Ok(Scheduler::restore(config.clone(), nodes.to_vec(), state.reservations, state.allocations, state.next_event_id))
}

/// Ticks the scheduler once a second (ends, grace periods, reservation starts) until the
/// service stops.
pub(crate) fn spawn_ticker(allocations: Weak<Allocations>, stop: StopSignal) {
    let _ = std::thread::Builder::new().name("steward-scheduler".into()).spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(1000));
            let Some(a) = allocations.upgrade() else { return };
            if stop.is_raised() {
                return;
            }
            if let Err(e) = transact(&a, |_, _, _| Ok(())) {
                tracing::warn!("scheduler tick failed: {e}");
            }
        }
    });
}

/// Runs `op` on the scheduler (ticked to now) and the store; changes left uncommitted by `op`
/// are committed after it. Any commit failure reloads the scheduler from the store.
fn transact<T>(
    a: &Allocations,
    op: impl FnOnce(&mut Scheduler, &mut Store, i64) -> Result<T, AllocError>,
) -> Result<T, AllocError> {
    let mut sched = a.scheduler.lock().map_err(|_| ApiError::Internal("scheduler lock poisoned".into()))?;
    let mut store = a.store.lock()?;
    let now = now_ms();
    sync_nodes(a, &mut sched, now);
    apply_hold(a, &mut sched, now)?;
    sched.tick(now);
    let result = op(&mut sched, &mut store, now);
    let rest = sched.take_changes();
    let committed = if rest.is_empty() { Ok(()) } else { store.commit_allocation_changes(&rest, None) };
    if let Err(e) = committed.as_ref() {
        tracing::error!("committing scheduler changes failed: {e}; reloading from the database");
    }
    if committed.is_err() || matches!(result, Err(AllocError::Api(_))) {
        let nodes: Vec<NodeResources> = sched.nodes().cloned().collect();
        *sched = restore(&store, &nodes, &a.config, &a.hostname)?;
        // The reloaded nodes are all up: their states are read again at the next sync.
        a.cluster_epoch.store(u64::MAX, Ordering::Release);
    }
    committed?;
    result
}

/// Degradation holds `hold` from now on: running allocations of its classes are suspended at once.
pub(crate) fn set_hold(a: &Allocations, hold: AllocationHold) -> Result<(), ApiError> {
    *a.hold.lock().map_err(|_| ApiError::Internal("hold lock poisoned".into()))? = hold;
    with_scheduler(a, |_, _, _| ())
}

fn apply_hold(a: &Allocations, sched: &mut Scheduler, now: i64) -> Result<(), ApiError> {
    let hold = a.hold.lock().map_err(|_| ApiError::Internal("hold lock poisoned".into()))?;
    let suspended = sched.set_hold(&hold.classes, &hold.why, now);
    if !suspended.is_empty() {
        tracing::info!("degradation suspended allocations {suspended:?}: {}", hold.why);
    }
    Ok(())
}

/// Runs `f` on the scheduler ticked to now, with the store, committing what it changed: the
/// executor places partition attempts this way, so they obey priorities and reservations.
pub(crate) fn with_scheduler<T>(
    a: &Allocations,
    f: impl FnOnce(&mut Scheduler, &mut Store, i64) -> T,
) -> Result<T, ApiError> {
    transact(a, |sched, store, now| Ok(f(sched, store, now))).map_err(|e| match e {
        AllocError::Api(e) => e,
        other => ApiError::Internal(other.to_string()),
    })
}

/// Brings this machine's scheduler node up to date with `inventory` (its registered
/// accelerators replaced), so `accelerator_kind` requests see a registration at once.
pub(crate) fn put_local_node(
    a: &Allocations,
    inventory: &steward_core::Inventory,
    sampler: &steward_telemetry::SamplerConfig,
) -> Result<(), ApiError> {
    let res = local_node::local_node(inventory, sampler, now_ms());
    with_scheduler(a, |sched, _, now| sched.put_node(res, now))
}

/// Commits `changes` and the answer under `request_id` (with the request it answers, canonical
/// JSON) in one transaction.
fn commit_answer(
    sched: &mut Scheduler,
    store: &mut Store,
    (request_id, request_json): (&str, &str),
    now: i64,
    response: &AllocateResponse,
) -> Result<(), AllocError> {
    let json = serde_json::to_string(response).map_err(|e| ApiError::Internal(e.to_string()))?;
    let changes = sched.take_changes();
    let answer = RequestAnswer { request_id, time_ms: now, response_json: &json, request_json };
    store.commit_allocation_changes(&changes, Some(answer))?;
    Ok(())
}

/// The first answer to request `id` when `body` is the request it answered (a retry); a
/// conflict naming what differs when the id was used for another request; `None` when new.
fn earlier_answer(
    store: &Store,
    id: &str,
    body: &Value,
    canonical: &str,
) -> Result<Option<AllocateResponse>, AllocError> {
    let Some(stored) = store.request_answer(id)? else { return Ok(None) };
    if let Some(first) = stored.request_json.as_deref().filter(|first| *first != canonical) {
        let first: Value = serde_json::from_str(first).unwrap_or(Value::Null);
        let what = idempotency::first_difference(&first, body).unwrap_or_default();
        return Err(AllocError::Conflict(format!(
            "request id {id:?} was already used at {} for another request ({what}); resend that request to get its \
             answer, or send this one under a new id",
            format_rfc3339(stored.time_ms)
        )));
    }
    serde_json::from_str(&stored.response_json)
        .map(Some)
        .map_err(|e| ApiError::Internal(format!("stored answer unreadable: {e}")).into())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AllocError> + Send + 'static,
) -> Result<T, AllocError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(format!("scheduler task failed: {e}")))?
}

pub(crate) fn field_time(field: &str, v: Option<&str>, default: i64) -> Result<i64, AllocError> {
    match v {
        None => Ok(default),
        Some(s) => parse_rfc3339(s).map_err(|e| AllocError::Invalid(vec![FieldError::new(field, e)])),
    }
}

impl Allocations {
    /// The allocatable nodes (this machine, then remote nodes as they joined): rows of the
    /// reservation calendar.
    pub(crate) fn resources(&self) -> Vec<NodeResources> {
        let mut sched = self.scheduler.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sync_nodes(self, &mut sched, now_ms());
        // MIG instances show under their GPU (`GpuResource::mig`), not as GPUs of their own.
        sched.nodes().cloned().map(without_instance_slots).collect()
    }

    /// `POST /resources/allocate`: an allocation or a reservation, idempotent by request id
    /// (the same id with the same body gets the first answer; with another body, a conflict).
    pub(crate) async fn allocate(self: &Arc<Self>, body: Value) -> Result<AllocateResponse, AllocError> {
        let a = self.clone();
        blocking(move || {
            let canonical = idempotency::canonical(&body);
            let mut parsed = body::parse(&body).map_err(AllocError::Invalid)?;
            let id = match parsed.id() {
                Some(id) => id.clone(),
                None => {
                    let n = a.next_id.fetch_add(1, Ordering::Relaxed);
                    let id = format!("req-{:x}-{}-{n}", now_ms(), std::process::id());
                    parsed.set_id(id.clone());
                    id
                }
            };
            transact(&a, |sched, store, now| {
                if let Some(first) = earlier_answer(store, &id, &body, &canonical)? {
                    return Ok(first);
                }
                let kind = parsed.kind();
                let result = match parsed {
                    Parsed::Allocate(req) => match sched.allocate(req, now) {
                        Ok(a) => AllocateResult::allocation(&a),
                        Err(r) => AllocateResult::refused(r),
                    },
                    Parsed::Reserve(req, window) => match sched.reserve(&req, window, now) {
                        Ok(r) => AllocateResult::reservation(&r),
                        Err(r) => AllocateResult::refused(r),
                    },
                };
                let response = AllocateResponse {
                    request_id: id.clone(),
                    timestamp: format_rfc3339(now),
                    allocation_type: kind,
                    result,
                };
                commit_answer(sched, store, (&id, &canonical), now, &response)?;
                Ok(response)
            })
        })
        .await
    }

    /// Reservations overlapping `[from, to)` (default: the past day and the next two weeks),
    /// repeating ones expanded into occurrences.
    pub(crate) async fn reservations(
        self: &Arc<Self>,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Vec<Reservation>, AllocError> {
        let a = self.clone();
        blocking(move || {
            let now = now_ms();
            let from = field_time("from", from.as_deref(), now - 86_400_000)?;
            let to = field_time("to", to.as_deref(), now + 14 * 86_400_000)?;
            if to <= from || to - from > 400 * 86_400_000 {
                return Err(AllocError::Invalid(vec![FieldError::new(
                    "to",
                    "must be after from, at most 400 days later",
                )]));
            }
            transact(&a, |sched, _, _| Ok(sched.reservations_between(from, to)))
        })
        .await
    }

    /// One reservation as stored (by id or occurrence id): a repeating one as its series, with
    /// its changed occurrences.
    pub(crate) async fn reservation(self: &Arc<Self>, id: String) -> Result<Reservation, AllocError> {
        let a = self.clone();
        blocking(move || {
            let series = id.split('@').next().unwrap_or(&id).to_string();
            transact(&a, |sched, _, _| {
                sched
                    .reservation(&series)
                    .cloned()
                    .ok_or_else(|| AllocError::NotFound(format!("no reservation {series:?}")))
            })
        })
        .await
    }

    /// Moves or resizes a reservation under the same rules as creating one: the whole series,
    /// or only the occurrence the series starts at `occurrence` (RFC 3339).
    pub(crate) async fn update_reservation(
        self: &Arc<Self>,
        id: String,
        occurrence: Option<String>,
        change: ReservationChange,
    ) -> Result<Reservation, AllocError> {
        let a = self.clone();
        blocking(move || {
            let occurrence = occurrence.as_deref().map(|o| field_time("occurrence", Some(o), 0)).transpose()?;
            transact(&a, |sched, store, now| {
                let r = match occurrence {
                    Some(o) => sched.update_occurrence(&id, o, &change, now),
                    None => sched.update_reservation(&id, &change, now),
                }
                .map_err(from_resv_error)?;
                store.commit_allocation_changes(&sched.take_changes(), None)?;
                Ok(r)
            })
        })
        .await
    }

    /// Deletes a reservation, or only the occurrence the series starts at `occurrence`.
    pub(crate) async fn delete_reservation(
        self: &Arc<Self>,
        id: String,
        occurrence: Option<String>,
    ) -> Result<(), AllocError> {
        let a = self.clone();
        blocking(move || {
            let occurrence = occurrence.as_deref().map(|o| field_time("occurrence", Some(o), 0)).transpose()?;
            transact(&a, |sched, _, now| {
                match occurrence {
                    Some(o) => sched.delete_occurrence(&id, o, now).map(drop),
                    None => sched.delete_reservation(&id, now),
                }
                .map_err(from_resv_error)
            })
        })
        .await
    }

    /// Every reservation (series, not occurrences) as an iCalendar file.
    pub(crate) async fn reservations_ics(self: &Arc<Self>) -> Result<String, AllocError> {
        let a = self.clone();
        blocking(move || {
            transact(&a, |sched, _, now| {
                let all: Vec<Reservation> = sched.reservations().cloned().collect();
                Ok(ics::to_ics(&all, now))
            })
        })
        .await
    }

    /// Writes `reservations_ics` to `steward-reservations.ics` in `dir` (the desktop app's
    /// Downloads folder: its web view has no download handling) and answers the path written.
    pub(crate) async fn save_reservations_ics(
        self: &Arc<Self>,
        dir: std::path::PathBuf,
    ) -> Result<std::path::PathBuf, AllocError> {
        let ics = self.reservations_ics().await?;
        let path = dir.join("steward-reservations.ics");
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, ics))
            .map_err(|e| ApiError::Internal(format!("cannot write {}: {e}", path.display())))?;
        Ok(path)
    }

    /// Every allocation the scheduler knows (running, queued and ended).
    pub(crate) async fn allocations(self: &Arc<Self>) -> Result<Vec<Allocation>, AllocError> {
        let a = self.clone();
        blocking(move || transact(&a, |sched, _, _| Ok(sched.allocations().to_vec()))).await
    }

    pub(crate) async fn cancel_allocation(self: &Arc<Self>, id: String) -> Result<Allocation, AllocError> {
        let a = self.clone();
        blocking(move || {
            transact(&a, |sched, _, now| {
                sched.cancel(&id, now).ok_or_else(|| AllocError::NotFound(format!("no allocation {id:?}")))
            })
        })
        .await
    }

    /// The event log, newest first (`kind` e.g. `preemption`).
    pub(crate) async fn events(
        self: &Arc<Self>,
        kind: Option<String>,
        limit: Option<u32>,
    ) -> Result<Vec<Event>, AllocError> {
        let a = self.clone();
        blocking(move || {
            let limit = limit.unwrap_or(100).min(10_000);
            transact(&a, |_, store, _| Ok(store.allocation_events(kind.as_deref(), limit)?))
        })
        .await
    }
}

fn from_resv_error(e: ReservationError) -> AllocError {
    match e {
        ReservationError::NotFound(m) => AllocError::NotFound(m),
        ReservationError::Invalid(errors) => AllocError::Invalid(errors),
        ReservationError::Conflict(m) => AllocError::Conflict(m),
    }
}
