//! Graceful degradation: the same operations as `POST /resources/degradation`, one line over
//! `Steward`.

use steward_api::{DegradationResponse, ErrorBody, Steward};
use tauri::State;

use crate::answer::Answer;

/// `request` is the body of `POST /resources/degradation` (`operation` status | set_policy |
/// override | release_override | history).
#[tauri::command]
pub async fn degradation(steward: State<'_, Steward>, request: serde_json::Value) -> Answer<DegradationResponse> {
    let steward = steward.inner().clone();
    tauri::async_runtime::spawn_blocking(move || steward.degradation(request))
        .await
        .map_err(|e| ErrorBody::internal(e.to_string()))?
        .map_err(ErrorBody::from)
}
