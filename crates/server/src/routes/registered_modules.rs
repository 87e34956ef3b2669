//! `/api/registered-modules`: the modules that registered through the module API, on every
//! node, with state, latest report, goodput and directives (GET); and a directive sent to one
//! by hand (POST `…/{node}/{module}/directives`). One-line handlers.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use steward_api::{Directive, DirectiveOrder, ModuleStatus, Steward};

use super::json::JsonBody;
use super::profile::blocking;
use crate::error::HttpError;

pub async fn list(State(s): State<Steward>) -> Json<Vec<ModuleStatus>> {
    Json(s.registered_modules())
}

/// The body of a directive sent by hand.
#[derive(Deserialize)]
pub struct DirectiveBody {
    directive: Directive,
    /// Shown with the directive; "sent by hand" when absent.
    reason: Option<String>,
}

pub async fn direct(
    State(s): State<Steward>,
    Path((node, module)): Path<(String, String)>,
    JsonBody(b): JsonBody<DirectiveBody>,
) -> Result<Json<DirectiveOrder>, HttpError> {
    let reason = b.reason.unwrap_or_else(|| "sent by hand".into());
    Ok(Json(blocking(move || s.direct_module(&node, &module, b.directive, reason)).await?))
}
