//! Profiling commands: one-line adapters over `Steward`, the same operations as
//! `POST /resources/profile` and the `/api/modules` routes.

use steward_api::{
    DeepProfile, DeepProfileRequest, ModuleSpec, ProfileEvent, ProfileRequest, ProfileResponse, Steward,
};
use tauri::State;

/// Runs a blocking `Steward` call (SQLite, model fitting) off the UI thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, steward_api::ApiError> + Send + 'static,
) -> Result<T, String> {
    tauri::async_runtime::spawn_blocking(f).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn profile(steward: State<'_, Steward>, request: ProfileRequest) -> Result<ProfileResponse, String> {
    let s = steward.inner().clone();
    blocking(move || s.profile(request)).await
}

#[tauri::command]
pub fn modules(steward: State<'_, Steward>) -> Vec<ModuleSpec> {
    steward.modules()
}

#[tauri::command]
pub async fn put_module(steward: State<'_, Steward>, spec: ModuleSpec) -> Result<ModuleSpec, String> {
    let s = steward.inner().clone();
    blocking(move || s.put_module(spec)).await
}

#[tauri::command]
pub async fn delete_module(steward: State<'_, Steward>, name: String) -> Result<(), String> {
    let s = steward.inner().clone();
    blocking(move || s.delete_module(&name)).await
}

#[tauri::command]
pub async fn profile_events(steward: State<'_, Steward>, since_ms: i64) -> Result<Vec<ProfileEvent>, String> {
    let s = steward.inner().clone();
    blocking(move || s.profile_events(since_ms)).await
}

/// Starts a time-limited deep profile of one module (`POST /api/modules/{name}/deep-profile`).
#[tauri::command]
pub fn start_deep_profile(
    steward: State<'_, Steward>,
    module: String,
    request: DeepProfileRequest,
) -> Result<DeepProfile, String> {
    steward.start_deep_profile(&module, request).map_err(|e| e.to_string())
}

#[tauri::command]
pub fn deep_profile(steward: State<'_, Steward>, module: String) -> Result<Option<DeepProfile>, String> {
    steward.deep_profile(&module).map_err(|e| e.to_string())
}
