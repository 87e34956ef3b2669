//! Energy: the same envelope as `POST /resources/energy`, as one command, and the report.

use steward_api::{EnergyResponse, ErrorBody, Steward};
use tauri::State;

use crate::answer::Answer;

/// `request` is the body of `POST /resources/energy` (`operation` monitor | plan | apply |
/// rollback | journal).
#[tauri::command]
pub async fn energy(steward: State<'_, Steward>, request: serde_json::Value) -> Answer<EnergyResponse> {
    steward.energy(request).await.map_err(ErrorBody::from)
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
