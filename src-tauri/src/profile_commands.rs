//! Profiling commands: one-line adapters over `Steward`, the same operations as
//! `POST /resources/profile` and the `/api/modules` routes.

use steward_api::{DeepProfile, ErrorBody, ModuleSpec, ProfileEvent, ProfileResponse, Steward};
use tauri::State;

use crate::answer::{Answer, arg};

/// Runs a blocking `Steward` call (SQLite, model fitting) off the UI thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, steward_api::ApiError> + Send + 'static,
) -> Answer<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| ErrorBody::internal(e.to_string()))?
        .map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn profile(steward: State<'_, Steward>, request: serde_json::Value) -> Answer<ProfileResponse> {
    let s = steward.inner().clone();
    let request = arg(&request)?;
    blocking(move || s.profile(request)).await
}

#[tauri::command]
pub fn modules(steward: State<'_, Steward>) -> Vec<ModuleSpec> {
    steward.modules()
}

#[tauri::command]
pub async fn put_module(steward: State<'_, Steward>, spec: serde_json::Value) -> Answer<ModuleSpec> {
    let s = steward.inner().clone();
    let spec = arg(&spec)?;
    blocking(move || s.put_module(spec)).await
}

#[tauri::command]
pub async fn delete_module(steward: State<'_, Steward>, name: String) -> Answer<()> {
    let s = steward.inner().clone();
    blocking(move || s.delete_module(&name)).await
}

#[tauri::command]
pub async fn profile_events(steward: State<'_, Steward>, since_ms: i64) -> Answer<Vec<ProfileEvent>> {
    let s = steward.inner().clone();
    blocking(move || s.profile_events(since_ms)).await
}

/// Starts a time-limited deep profile of one module (`POST /api/modules/{name}/deep-profile`).
#[tauri::command]
pub fn start_deep_profile(
    steward: State<'_, Steward>,
    module: String,
    request: serde_json::Value,
) -> Answer<DeepProfile> {
    steward.start_deep_profile(&module, arg(&request)?).map_err(ErrorBody::from)
}

#[tauri::command]
pub fn deep_profile(steward: State<'_, Steward>, module: String) -> Answer<Option<DeepProfile>> {
    steward.deep_profile(&module).map_err(ErrorBody::from)
}
