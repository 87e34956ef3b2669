//! Graceful degradation as the service runs it: a thread judges constraints from the latest
//! snapshot every `detect_interval_ms` and runs the engine (steward-core's `degrade`) every
//! `check_interval_ms`, sending its directives through the module registry (`modules::direct`).
//! Policies set through the API, overrides and the steps in force are written before they are
//! answered or sent; the timeline is kept in the store.
//!
//! [`Degradation`] is the subsystem: it holds the handles it reads (the module registry, the
//! live feed's latest snapshot, the profiler's module definitions, the cluster's node states)
//! and writes (the store), and the stop signal; `Steward` delegates to it from
//! `service/degradation_api.rs`.

mod body;
pub(crate) mod hold;
mod observe;
mod settings;
mod status;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use serde_json::Value;
use steward_core::alloc::FieldError;
use steward_core::alloc::time::format_rfc3339;
use steward_core::degrade::AllocationHold;
use steward_core::degrade::engine::MemoryGate;
use steward_core::degrade::{
    DegradationEvent, DegradationPolicy, Detector, Engine, Inputs, ModuleOrder, ModuleOverride, ModuleView,
};

pub use body::{DegradationOperation, DegradationResponse, DegradationResult, OverrideRequest};
pub(crate) use settings::DegradationSection;
pub use settings::DegradationSettings;
pub use status::{BudgetView, DegradationStatus, FeatureState, ModuleDegradation};

use crate::ApiError;
use crate::allocation::{AllocError, Allocations};
use crate::clock::now_ms;
use crate::cluster::Cluster;
use crate::live_feed::LiveFeed;
use crate::modules::Modules;
use crate::profile::Profiling;
use crate::stop_signal::StopSignal;
use crate::store_handle::StoreHandle;

/// The handles the degradation subsystem uses, given by the service when it builds it.
pub(crate) struct Context {
    pub(crate) modules: Arc<Modules>,
    pub(crate) live: Arc<LiveFeed>,
    pub(crate) store: StoreHandle,
    pub(crate) profiling: Arc<Profiling>,
    pub(crate) cluster: Arc<Cluster>,
    /// Where `suspend_allocations` steps act.
    pub(crate) allocations: Arc<Allocations>,
    pub(crate) stop: StopSignal,
}

/// The engine, the detector and the policies, and the handles they need.
pub(crate) struct Degradation {
    ctx: Context,
    settings: DegradationSettings,
    engine: Mutex<Engine>,
    detector: Mutex<Detector>,
    policies: RwLock<Vec<DegradationPolicy>>,
    last_check_ms: Mutex<Option<i64>>,
    /// Each module's registration time when last seen: a new one means it registered again.
    registered: Mutex<BTreeMap<(String, String), i64>>,
    next_id: std::sync::atomic::AtomicU64,
    /// What the allocation engine was last told to hold.
    hold_sent: Mutex<AllocationHold>,
}

impl Degradation {
    /// The state kept across restarts, or the configured policies on a fresh database.
    pub(crate) fn load(ctx: Context, settings: &DegradationSettings) -> Result<Degradation, ApiError> {
        let kept = ctx.store.lock()?.degradation_state()?;
        let d = Degradation {
            ctx,
            settings: settings.clone(),
            engine: Mutex::new(Engine::restore(kept.groups, kept.overrides)),
            detector: Mutex::new(Detector::new()),
            policies: RwLock::new(kept.policies.unwrap_or_else(|| settings.policies.clone())),
            last_check_ms: Mutex::new(None),
            registered: Mutex::new(BTreeMap::new()),
            next_id: Default::default(),
            hold_sent: Mutex::new(AllocationHold::default()),
        };
        // The allocation engine started with the kept hold (`hold::kept`).
        d.ctx.live.set_lowered(d.engine()?.sampling_lowered());
        let kept = d.engine()?.allocation_hold();
        *d.hold_sent.lock().map_err(|_| ApiError::Internal("hold lock poisoned".into()))? = kept;
        Ok(d)
    }

    fn engine(&self) -> Result<MutexGuard<'_, Engine>, ApiError> {
        self.engine.lock().map_err(|_| ApiError::Internal("degradation engine lock poisoned".into()))
    }

    fn policies(&self) -> Vec<DegradationPolicy> {
        self.policies.read().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Registered modules rely on constraints being seen within seconds (a memory hog must be shed
/// before it starves a critical module): while any is active, the sampler runs at its active
/// rate even when no one watches the UI.
pub(crate) fn needs_prompt_samples(modules: &Modules) -> bool {
    crate::modules::list(modules).iter().any(|m| m.state == steward_core::module_status::ModuleState::Active)
}

/// Judges constraints and runs checks until the service stops.
pub(crate) fn spawn_checker(degradation: Weak<Degradation>) {
    let _ = std::thread::Builder::new().name("steward-degradation".into()).spawn(move || {
        let mut seen = observe::SeenGpus::default();
        let mut next_check = 0;
        loop {
            let Some(interval) = degradation.upgrade().map(|d| d.settings.detect_interval_ms) else { return };
            std::thread::sleep(Duration::from_millis(interval as u64));
            let Some(d) = degradation.upgrade() else { return };
            if d.ctx.stop.is_raised() {
                return;
            }
            let now = now_ms();
            if let Err(e) = tick(&d, &mut seen, now >= next_check) {
                tracing::warn!("degradation check failed: {e}");
            }
            if now >= next_check {
                next_check = now + d.settings.check_interval_ms;
            }
        }
    });
}

/// One detection and the engine on what it found: it sheds at once, and gives back only when a
/// scheduled check is due (`check`).
fn tick(d: &Degradation, seen: &mut observe::SeenGpus, due: bool) -> Result<(), ApiError> {
    let settings = &d.settings;
    let Some(snap) = d.ctx.live.latest() else { return Ok(()) };
    // Judged now: dwell times run on the control center's clock, not the snapshot's age.
    let mut obs = observe::observation(&d.ctx.profiling, &d.ctx.cluster, &snap, settings, seen);
    obs.ts_ms = now_ms();
    let constraints = d
        .detector
        .lock()
        .map_err(|_| ApiError::Internal("detector lock poisoned".into()))?
        .observe(&obs, &settings.detect);
    let statuses = crate::modules::list(&d.ctx.modules);
    let modules = observe::module_views(&statuses);
    let policies = d.policies();
    let now = now_ms();
    let mut engine = d.engine()?;
    forget_reregistered(d, &statuses, &mut engine);
    let memory = obs.memory.as_ref().map(|m| MemoryGate {
        used_bytes: m.used_bytes,
        budget_bytes: m.budget_bytes,
        resume_below_pct: settings.detect.memory_tiers_pct[0] - settings.detect.hysteresis_pct,
    });
    let headroom_pct = memory.map(|m| 100.0 - m.used_bytes as f64 / m.budget_bytes.max(1) as f64 * 100.0);
    let before = engine.groups().to_vec();
    let check = engine.check(&Inputs {
        now_ms: now,
        constraints: &constraints,
        modules: &modules,
        policies: &policies,
        headroom_pct,
        memory,
        recover: due,
    });
    {
        let mut store = d.ctx.store.lock()?;
        if engine.groups() != before {
            store.put_degradation_groups(engine.groups())?;
        }
        store.add_degradation_events(&check.events)?;
    }
    let held = engine.allocation_hold();
    d.ctx.live.set_lowered(engine.sampling_lowered());
    drop(engine);
    hold::apply(d, held)?;
    if due && let Ok(mut l) = d.last_check_ms.lock() {
        *l = Some(now);
    }
    send(&d.ctx.modules, check.orders);
    Ok(())
}

fn forget_reregistered(d: &Degradation, statuses: &[steward_core::module_status::ModuleStatus], engine: &mut Engine) {
    let Ok(mut seen) = d.registered.lock() else { return };
    for s in statuses {
        let key = (s.node.clone(), s.registration.name.clone());
        if seen.insert(key, s.registered_ms).is_some_and(|before| before != s.registered_ms) {
            engine.forget_module(&s.node, &s.registration.name);
        }
    }
}

fn send(modules: &Modules, orders: Vec<ModuleOrder>) {
    for o in orders {
        if let Err(e) = crate::modules::direct(modules, &o.node, &o.module, o.directive.clone(), o.reason.clone()) {
            tracing::warn!("directive {:?} to {} on {} failed: {e}", o.directive, o.module, o.node);
        }
    }
}

impl Degradation {
    /// `POST /resources/degradation`.
    pub(crate) fn request(&self, body: Value) -> Result<DegradationResponse, AllocError> {
        let (id, by, parsed) = body::parse(&body).map_err(AllocError::Invalid)?;
        let d = self;
        let request_id = id.unwrap_or_else(|| {
            format!("deg-{}-{}", now_ms(), d.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
        });
        let (operation, result) = match parsed {
            body::Parsed::Status => (DegradationOperation::Status, DegradationResult::Status(Box::new(self.status()?))),
            body::Parsed::SetPolicy(p) => {
                (DegradationOperation::SetPolicy, DegradationResult::Policies { policies: self.set_policy(*p)? })
            }
            body::Parsed::RemovePolicy(name) => {
                (DegradationOperation::SetPolicy, DegradationResult::Policies { policies: self.remove_policy(&name)? })
            }
            body::Parsed::Override(o) => {
                (DegradationOperation::Override, DegradationResult::Override { over: self.set_override(o, &by)? })
            }
            body::Parsed::Release(module) => {
                self.release_override(&module, &by)?;
                (DegradationOperation::ReleaseOverride, DegradationResult::Released { released: module })
            }
            body::Parsed::History { since_ms, limit } => {
                (DegradationOperation::History, DegradationResult::History { events: self.history(since_ms, limit)? })
            }
        };
        Ok(DegradationResponse { request_id, timestamp: format_rfc3339(now_ms()), operation, result })
    }

    pub(crate) fn status(&self) -> Result<DegradationStatus, ApiError> {
        let d = self;
        let statuses = crate::modules::list(&self.ctx.modules);
        let views = observe::module_views(&statuses);
        let memory = match self.ctx.live.latest() {
            None => BudgetView { used_bytes: None, budget_bytes: None, what: "no snapshot yet".into() },
            Some(snap) => match observe::memory_use(&self.ctx.profiling, &snap, &self.settings) {
                Ok(m) => {
                    BudgetView { used_bytes: Some(m.used_bytes), budget_bytes: Some(m.budget_bytes), what: m.what }
                }
                Err(why) => BudgetView { used_bytes: None, budget_bytes: None, what: why },
            },
        };
        let engine = d.engine()?;
        let modules = statuses
            .iter()
            .filter_map(|s| {
                let v = views.iter().find(|v| v.node == s.node && v.name == s.registration.name)?;
                Some(status::module_row(s, v, &engine))
            })
            .collect();
        Ok(DegradationStatus {
            modules,
            constraints: d.detector.lock().map(|x| x.in_force()).unwrap_or_default(),
            steps: engine.groups().to_vec(),
            overrides: engine.overrides().cloned().collect(),
            policies: d.policies(),
            held: engine.held().map(str::to_string),
            check_interval_ms: self.settings.check_interval_ms,
            last_check_ms: d.last_check_ms.lock().ok().and_then(|l| *l),
            memory,
        })
    }

    /// Adds or replaces (by name) a policy; refused per field when it would touch a critical
    /// module or cannot work.
    pub(crate) fn set_policy(&self, p: DegradationPolicy) -> Result<Vec<DegradationPolicy>, AllocError> {
        let views = observe::module_views(&crate::modules::list(&self.ctx.modules));
        let problems = p.problems(&views);
        if !problems.is_empty() {
            return Err(AllocError::Invalid(
                problems.into_iter().map(|e| FieldError::new(format!("policy.{}", e.field), e.message)).collect(),
            ));
        }
        self.change_policies(|list| {
            match list.iter_mut().find(|q| q.name == p.name) {
                Some(q) => *q = p,
                None => list.push(p),
            }
            Ok(())
        })
    }

    pub(crate) fn remove_policy(&self, name: &str) -> Result<Vec<DegradationPolicy>, AllocError> {
        self.change_policies(|list| {
            let before = list.len();
            list.retain(|p| p.name != name);
            if list.len() == before {
                return Err(AllocError::NotFound(format!("no degradation policy named {name:?}")));
            }
            Ok(())
        })
    }

    /// Changes the list, writes it, then puts it in force (the next check acts on it).
    fn change_policies(
        &self,
        f: impl FnOnce(&mut Vec<DegradationPolicy>) -> Result<(), AllocError>,
    ) -> Result<Vec<DegradationPolicy>, AllocError> {
        let d = self;
        let mut list = d.policies.write().map_err(|_| ApiError::Internal("policy lock poisoned".into()))?;
        let mut next = list.clone();
        f(&mut next)?;
        self.ctx.store.lock()?.put_degradation_policies(&next)?;
        *list = next.clone();
        Ok(next)
    }

    /// Forces a level, pins features or exempts a module, at once (not at the next check).
    pub(crate) fn set_override(&self, req: OverrideRequest, by: &str) -> Result<ModuleOverride, AllocError> {
        let views = observe::module_views(&crate::modules::list(&self.ctx.modules));
        let module = find_module(&views, &req.module)?;
        let o = ModuleOverride {
            module: req.module,
            force_level: req.force_level,
            pinned_features: req.pinned_features,
            exempt: req.exempt,
            by: by.to_string(),
            at_ms: now_ms(),
            reason: req.reason,
        };
        let problems = o.problems(module);
        if !problems.is_empty() {
            return Err(AllocError::Invalid(
                problems.into_iter().map(|(f, m)| FieldError::new(format!("override.{f}"), m)).collect(),
            ));
        }
        let orders = {
            let mut engine = self.engine()?;
            let mut store = self.ctx.store.lock()?;
            store.put_module_override(&o)?;
            let event = engine.set_override(o.clone(), o.at_ms);
            store.add_degradation_events(&[event])?;
            engine.reconcile_now(&views, &format!("override: {}", o.describe()))
        };
        send(&self.ctx.modules, orders);
        Ok(o)
    }

    pub(crate) fn release_override(&self, module: &str, by: &str) -> Result<(), AllocError> {
        let views = observe::module_views(&crate::modules::list(&self.ctx.modules));
        let orders = {
            let mut engine = self.engine()?;
            let mut store = self.ctx.store.lock()?;
            if !engine.overrides().any(|o| o.module == module) {
                find_module(&views, module)?;
                return Err(AllocError::NotFound(format!("{module} has no override")));
            }
            store.delete_module_override(module)?;
            let event = engine.release_override(module, by, now_ms()).expect("checked above");
            store.add_degradation_events(&[event])?;
            engine.reconcile_now(&views, &format!("override of {module} released by {by}"))
        };
        send(&self.ctx.modules, orders);
        Ok(())
    }

    pub(crate) fn history(&self, since_ms: i64, limit: usize) -> Result<Vec<DegradationEvent>, ApiError> {
        Ok(self.ctx.store.lock()?.degradation_events(since_ms, limit)?)
    }
}

fn find_module<'a>(views: &'a [ModuleView], name: &str) -> Result<&'a ModuleView, AllocError> {
    views
        .iter()
        .find(|v| v.name == name)
        .ok_or_else(|| AllocError::NotFound(format!("no registered module named {name:?}")))
}
