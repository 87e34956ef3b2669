//! Accelerator commands: the same operations as `POST /resources/accelerators` (list,
//! register, characterize, place, analyze, map, advise), one line over `Steward`.

use steward_api::{AcceleratorsResponse, ErrorBody, Steward};
use tauri::State;

use crate::answer::Answer;

/// `request` is the body of `POST /resources/accelerators`.
#[tauri::command]
pub async fn accelerators(steward: State<'_, Steward>, request: serde_json::Value) -> Answer<AcceleratorsResponse> {
    steward.accelerators(request).await.map_err(ErrorBody::from)
}
