//! Energy commands: the same operations as `POST /resources/energy`, one line over `Steward`.

use steward_api::{EnergyResponse, ErrorBody, Steward};
use tauri::State;

use crate::answer::Answer;

/// `request` is the body of `POST /resources/energy` (`operation` plan | apply | rollback | journal).
#[tauri::command]
pub async fn energy(steward: State<'_, Steward>, request: serde_json::Value) -> Answer<EnergyResponse> {
    steward.energy(request).await.map_err(ErrorBody::from)
}
