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
use crate::cluster::LOCAL_NODE;
use crate::service::{Shared, Steward};

/// How often silence is judged and the profiler's PIDs refreshed.
const SWEEP_EVERY: Duration = Duration::from_millis(250);

/// Every registered module of every node, lost ones judged as of now.
pub(crate) fn list(shared: &Shared) -> Vec<ModuleStatus> {
    shared.modules.list(now_ms())
}

/// Sends `directive` to `module` on `node`, recorded before it leaves; the module's ack is
/// recorded when it comes (see `ModuleStatus::directives`).
pub(crate) fn direct(
    shared: &Shared,
    node: &str,
    module: &str,
    directive: Directive,
    reason: String,
) -> Result<DirectiveOrder, ApiError> {
    let order = {
        let mut store = shared.lock_store()?;
        shared.modules.direct(&mut store, node, module, directive, reason, now_ms())?
    };
    if node != LOCAL_NODE {
        remote::forward(shared, node, module, order.clone());
    }
    Ok(order)
}

impl Steward {
    /// `GET /api/registered-modules`.
    pub fn registered_modules(&self) -> Vec<ModuleStatus> {
        list(&self.shared)
    }

    pub fn direct_module(
        &self,
        node: &str,
        module: &str,
        directive: Directive,
        reason: String,
    ) -> Result<DirectiveOrder, ApiError> {
        direct(&self.shared, node, module, directive, reason)
    }

    /// The hub that the control center's module socket serves: modules on this node.
    pub fn module_hub(&self) -> Arc<dyn ModuleHub> {
        Arc::new(hub::LocalHub::new(Arc::downgrade(&self.shared)))
    }
}

/// Starts judging silence and following agents' modules.
pub(crate) fn start(steward: &Steward) -> Result<(), ApiError> {
    let weak = Arc::downgrade(&steward.shared);
    steward.cluster_runtime().spawn(remote::follow(weak.clone()));
    std::thread::Builder::new()
        .name("steward-modules".into())
        .spawn(move || sweep_loop(weak))
        .map(|_| ())
        .map_err(|e| ApiError::Internal(format!("cannot start the module thread: {e}")))
}

fn sweep_loop(shared: Weak<Shared>) {
    loop {
        std::thread::sleep(SWEEP_EVERY);
        let Some(shared) = shared.upgrade() else { return };
        if shared.is_stopping() {
            return;
        }
        let swept = shared.lock_store().and_then(|mut store| shared.modules.sweep(&mut store, now_ms()));
        if let Err(e) = swept {
            tracing::warn!("judging registered modules failed: {e}");
        }
        shared.profiler.set_registered_pids(shared.modules.pids_on(LOCAL_NODE));
    }
}
