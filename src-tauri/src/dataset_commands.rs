//! Dataset commands: the same operations as `/api/datasets*`, one line each over `Steward`.

use steward_api::{ErrorBody, Steward};
use steward_core::dispatch::Dataset;
use tauri::State;

use crate::answer::{Answer, arg};

#[tauri::command]
pub fn datasets(steward: State<'_, Steward>) -> Answer<Vec<Dataset>> {
    steward.datasets().map_err(ErrorBody::from)
}

#[tauri::command]
pub fn register_dataset(steward: State<'_, Steward>, dataset: serde_json::Value) -> Answer<Dataset> {
    steward.register_dataset(arg(&dataset)?).map_err(ErrorBody::from)
}

#[tauri::command]
pub fn remove_dataset(steward: State<'_, Steward>, name: String) -> Answer<()> {
    steward.remove_dataset(&name).map_err(ErrorBody::from)
}
