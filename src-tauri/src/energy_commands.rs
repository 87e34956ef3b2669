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

/// Saves the energy report (SVG) in the user's Downloads folder and answers the path written.
#[tauri::command]
pub async fn save_energy_report(app: tauri::AppHandle, steward: State<'_, Steward>) -> Answer<String> {
    use tauri::Manager;
    let dir = app.path().download_dir().map_err(|e| ErrorBody::internal(format!("no Downloads folder: {e}")))?;
    let s = steward.inner().clone();
    tauri::async_runtime::spawn_blocking(move || s.save_energy_report(&dir))
        .await
        .map_err(|e| ErrorBody::internal(e.to_string()))?
        .map(|p| p.display().to_string())
        .map_err(ErrorBody::from)
}
