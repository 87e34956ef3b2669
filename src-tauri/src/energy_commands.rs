//! Energy: the same envelope as `POST /resources/energy`, as one command.

use steward_api::{EnergyResponse, ErrorBody, Steward};
use tauri::State;

use crate::answer::{Answer, arg};

#[tauri::command]
pub async fn energy(steward: State<'_, Steward>, request: serde_json::Value) -> Answer<EnergyResponse> {
    let s = steward.inner().clone();
    let request = arg(&request)?;
    tauri::async_runtime::spawn_blocking(move || s.energy(request))
        .await
        .map_err(|e| ErrorBody::internal(e.to_string()))?
        .map_err(ErrorBody::from)
}
