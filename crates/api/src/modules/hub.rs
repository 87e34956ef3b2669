//! The control center's own node as a module hub: what local modules reach through the module
//! socket, written to the registry under node `local`.

use std::sync::Weak;

use steward_agent::module_api::{HubError, ModuleHub};
use steward_core::registration::{Ack, DirectiveOrder, Registration, UsageReport};
use steward_store::Store;
use tokio::sync::mpsc;

use crate::ApiError;
use crate::clock::now_ms;
use crate::cluster::LOCAL_NODE;
use crate::service::Shared;

pub(crate) struct LocalHub {
    shared: Weak<Shared>,
}

impl LocalHub {
    pub(crate) fn new(shared: Weak<Shared>) -> Self {
        LocalHub { shared }
    }

    fn with<T>(&self, f: impl FnOnce(&Shared, &mut Store) -> Result<T, ApiError>) -> Result<T, HubError> {
        let shared = self.shared.upgrade().ok_or_else(|| HubError::Unavailable("Steward is stopping".into()))?;
        let mut store = shared.lock_store().map_err(hub_error)?;
        f(&shared, &mut store).map_err(hub_error)
    }
}

fn hub_error(e: ApiError) -> HubError {
    match e {
        ApiError::NotFound(m) => HubError::NotRegistered(m),
        e @ (ApiError::InvalidInput(_) | ApiError::InvalidFields(_) | ApiError::Conflict(_)) => {
            HubError::Invalid(e.to_string())
        }
        e => HubError::Unavailable(e.to_string()),
    }
}

impl ModuleHub for LocalHub {
    fn register(&self, registration: Registration) -> Result<String, HubError> {
        self.with(|s, store| {
            s.modules.register(store, LOCAL_NODE, registration, now_ms())?;
            // Profiling covers the module from its first report on, not a sweep later.
            s.profiler.set_registered_pids(s.modules.pids_on(LOCAL_NODE));
            Ok(LOCAL_NODE.to_string())
        })
    }

    fn report(&self, module: &str, report: UsageReport) -> Result<(), HubError> {
        self.with(|s, store| s.modules.report(store, LOCAL_NODE, module, report, now_ms()))
    }

    fn watch(&self, module: &str) -> Result<mpsc::UnboundedReceiver<DirectiveOrder>, HubError> {
        let shared = self.shared.upgrade().ok_or_else(|| HubError::Unavailable("Steward is stopping".into()))?;
        shared.modules.watch(LOCAL_NODE, module).map_err(hub_error)
    }

    fn ack(&self, module: &str, directive_id: u64, ack: Ack) -> Result<(), HubError> {
        self.with(|s, store| s.modules.ack(store, LOCAL_NODE, module, directive_id, ack, now_ms()))
    }

    fn deregister(&self, module: &str) -> Result<(), HubError> {
        self.with(|s, store| {
            s.modules.deregister(store, LOCAL_NODE, module)?;
            s.profiler.set_registered_pids(s.modules.pids_on(LOCAL_NODE));
            Ok(())
        })
    }
}
