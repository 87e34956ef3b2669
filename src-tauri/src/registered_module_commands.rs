//! Registered-module commands: the same as `GET /api/registered-modules`, over `Steward`.

use steward_api::{ModuleStatus, Steward};
use tauri::State;

#[tauri::command]
pub fn registered_modules(steward: State<'_, Steward>) -> Vec<ModuleStatus> {
    steward.registered_modules()
}
