//! Dataset commands: the same operations as `/api/datasets*`, one line each over `Steward`.

use steward_api::Steward;
use steward_core::dispatch::Dataset;
use tauri::State;

#[tauri::command]
pub fn datasets(steward: State<'_, Steward>) -> Result<Vec<Dataset>, String> {
    steward.datasets().map_err(|e| e.to_string())
}

#[tauri::command]
pub fn register_dataset(steward: State<'_, Steward>, dataset: Dataset) -> Result<Dataset, String> {
    steward.register_dataset(dataset).map_err(|e| e.to_string())
}

#[tauri::command]
pub fn remove_dataset(steward: State<'_, Steward>, name: String) -> Result<(), String> {
    steward.remove_dataset(&name).map_err(|e| e.to_string())
}
