//! The module API's registry: modules that registered on any node, their reports, states and
//! directives (`registry.rs`, persisted in the store); the control center's own node served to
//! local modules through [`LocalHub`] (`hub.rs`, on a Unix socket the front door binds); and
//! agents' modules followed over each node's `WatchModules` stream (`remote.rs`). A thread
//! marks silent modules lost and joins the local ones' PIDs to the profiler's modules.
//!
//! For the degradation engine: [`list`] and [`direct`].

mod hub;
mod registry;
mod remote;

use std::sync::{Arc, Weak};
use std::time::Duration;

use steward_agent::module_api::ModuleHub;
use steward_core::module_status::ModuleStatus;
use steward_core::registration::{Directive, DirectiveOrder};

pub(crate) use registry::Registry;

use crate::ApiError;
use crate::clock::now_ms;
use crate::cluster::{Cluster, LOCAL_NODE};
use crate::profile::Profiling;
use crate::stop_signal::StopSignal;
use crate::store_handle::StoreHandle;

/// The module subsystem's handles: the registry and what it reads and tells.
pub(crate) struct Modules {
    pub(crate) registry: Registry,
    pub(crate) store: StoreHandle,
    pub(crate) cluster: Arc<Cluster>,
    pub(crate) profiling: Arc<Profiling>,
    pub(crate) stop: StopSignal,
}

impl Modules {
    fn set_local_pids(&self) {
        self.profiling.profiler.set_registered_pids(self.registry.pids_on(LOCAL_NODE));
    }
}

/// How often silence is judged and the profiler's PIDs refreshed.
const SWEEP_EVERY: Duration = Duration::from_millis(250);

/// Every registered module of every node, lost ones judged as of now.
pub(crate) fn list(m: &Modules) -> Vec<ModuleStatus> {
    m.registry.list(now_ms())
}

/// Sends `directive` to `module` on `node`, recorded before it leaves; the module's ack is
/// recorded when it comes (see `ModuleStatus::directives`).
pub(crate) fn direct(
    m: &Modules,
    node: &str,
    module: &str,
    directive: Directive,
    reason: String,
) -> Result<DirectiveOrder, ApiError> {
    let order = {
        let mut store = m.store.lock()?;
        m.registry.direct(&mut store, node, module, directive, reason, now_ms())?
    };
    if node != LOCAL_NODE {
        remote::forward(m, node, module, order.clone());
    }
    Ok(order)
}

/// The hub that the control center's module socket serves: modules on this node.
pub(crate) fn local_hub(m: &Arc<Modules>) -> Arc<dyn ModuleHub> {
    Arc::new(hub::LocalHub::new(Arc::downgrade(m)))
}

/// Starts judging silence and following agents' modules.
pub(crate) fn start(m: &Arc<Modules>) -> Result<(), ApiError> {
    let weak = Arc::downgrade(m);
    m.cluster.handle().spawn(remote::follow(weak.clone()));
    std::thread::Builder::new()
        .name("steward-modules".into())
        .spawn(move || sweep_loop(weak))
        .map(|_| ())
        .map_err(|e| ApiError::Internal(format!("cannot start the module thread: {e}")))
}

fn sweep_loop(modules: Weak<Modules>) {
    loop {
        std::thread::sleep(SWEEP_EVERY);
        let Some(m) = modules.upgrade() else { return };
        if m.stop.is_raised() {
            return;
        }
        let swept = m.store.lock().and_then(|mut store| m.registry.sweep(&mut store, now_ms()));
        if let Err(e) = swept {
            tracing::warn!("judging registered modules failed: {e}");
        }
        m.set_local_pids();
    }
}
