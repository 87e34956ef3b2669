//! Modules registered through the module API (`crate::modules`), as the front doors call them.

use std::sync::Arc;

use steward_agent::module_api::ModuleHub;
use steward_core::module_status::ModuleStatus;
use steward_core::registration::{Directive, DirectiveOrder};

use super::Steward;
use crate::{ApiError, modules};

impl Steward {
    /// `GET /api/registered-modules`.
    pub fn registered_modules(&self) -> Vec<ModuleStatus> {
        modules::list(&self.shared.modules)
    }

    pub fn direct_module(
        &self,
        node: &str,
        module: &str,
        directive: Directive,
        reason: String,
    ) -> Result<DirectiveOrder, ApiError> {
        modules::direct(&self.shared.modules, node, module, directive, reason)
    }

    /// The hub that the control center's module socket serves: modules on this node.
    pub fn module_hub(&self) -> Arc<dyn ModuleHub> {
        modules::local_hub(&self.shared.modules)
    }
}
