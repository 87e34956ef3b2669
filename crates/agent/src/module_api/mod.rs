//! The module API (`module.proto`) on both sides of a node: [`ModuleHub`] is what keeps the
//! registered modules — [`LocalModules`] on an agent (forwarded to the control center), the
//! registry in steward-api at the control center — and [`ModuleEndpoint`] serves any hub over
//! gRPC, on a Unix socket ([`socket`]) or beside the agent's own service.

mod endpoint;
mod local;
mod mailbox;
pub mod socket;

pub use endpoint::ModuleEndpoint;
pub use local::LocalModules;
pub use mailbox::Mailbox;

use steward_core::registration::{Ack, DirectiveOrder, Registration, UsageReport};
use tokio::sync::mpsc;

/// Why a hub refused a call, sorted by what the module should do about it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HubError {
    /// The module is not registered (any more): register again.
    #[error("{0}")]
    NotRegistered(String),
    /// The call itself is unusable.
    #[error("{0}")]
    Invalid(String),
    /// The hub cannot serve now (its database failed): try again later.
    #[error("{0}")]
    Unavailable(String),
}

impl From<HubError> for tonic::Status {
    fn from(e: HubError) -> Self {
        match e {
            HubError::NotRegistered(m) => tonic::Status::not_found(m),
            HubError::Invalid(m) => tonic::Status::invalid_argument(m),
            HubError::Unavailable(m) => tonic::Status::unavailable(m),
        }
    }
}

/// Where registered modules are kept. Calls may block briefly (a database write).
pub trait ModuleHub: Send + Sync + 'static {
    /// Registers (again); answers the node the module is registered on.
    fn register(&self, registration: Registration) -> Result<String, HubError>;
    fn report(&self, module: &str, report: UsageReport) -> Result<(), HubError>;
    /// The module's directives: those not yet acknowledged, then new ones.
    fn watch(&self, module: &str) -> Result<mpsc::UnboundedReceiver<DirectiveOrder>, HubError>;
    fn ack(&self, module: &str, directive_id: u64, ack: Ack) -> Result<(), HubError>;
    fn deregister(&self, module: &str) -> Result<(), HubError>;
}
