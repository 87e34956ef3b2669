//! Tauri commands: one-line adapters over `steward_api::Steward`, the same operations the HTTP
//! front door offers. Live data flows through an ordered `tauri::ipc::Channel`.

use std::sync::{Arc, Mutex};

use steward_api::{ErrorBody, Inventory, SeriesHistory, Snapshot, Status, Steward};
use tauri::State;
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;

use crate::answer::{Answer, arg};

/// The forwarding task of the window's live channel; a reload subscribes anew and ends the old one.
#[derive(Default)]
pub struct LiveFeed(Mutex<Option<JoinHandle<()>>>);

#[tauri::command]
pub fn inventory(steward: State<'_, Steward>) -> Inventory {
    steward.inventory()
}

#[tauri::command]
pub fn status(steward: State<'_, Steward>) -> Status {
    steward.status()
}

#[tauri::command]
pub fn snapshot(steward: State<'_, Steward>) -> Option<Arc<Snapshot>> {
    steward.snapshot()
}

#[tauri::command]
pub async fn history(steward: State<'_, Steward>, query: serde_json::Value) -> Answer<Vec<SeriesHistory>> {
    steward.history(arg(&query)?).await.map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn series_names(steward: State<'_, Steward>, prefix: String) -> Answer<Vec<String>> {
    steward.series_names(prefix).await.map_err(ErrorBody::from)
}

#[tauri::command]
pub fn set_visible(steward: State<'_, Steward>, visible: bool) {
    steward.set_visible(visible);
}

#[tauri::command]
pub fn subscribe(steward: State<'_, Steward>, feed: State<'_, LiveFeed>, channel: Channel<Arc<Snapshot>>) {
    let mut live = steward.subscribe();
    if let Some(latest) = steward.snapshot() {
        let _ = channel.send(latest);
    }
    let task = tauri::async_runtime::spawn(async move {
        while let Some(snap) = live.next().await {
            if channel.send(snap).is_err() {
                break;
            }
        }
    });
    if let Ok(mut slot) = feed.0.lock()
        && let Some(old) = slot.replace(task)
    {
        old.abort();
    }
}

// ---- allocation and reservations (the same operations as /resources/allocate and /api/*) ----

use steward_api::AllocateResponse;
use steward_core::alloc::{Allocation, Event, NodeResources, Reservation};

#[tauri::command]
pub async fn resources(steward: State<'_, Steward>) -> Answer<Vec<NodeResources>> {
    steward.calendar_resources().await.map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn reservations(
    steward: State<'_, Steward>,
    from: Option<String>,
    to: Option<String>,
) -> Answer<Vec<Reservation>> {
    steward.reservations(from, to).await.map_err(ErrorBody::from)
}

/// `request` is the body of `POST /resources/allocate`.
#[tauri::command]
pub async fn allocate(steward: State<'_, Steward>, request: serde_json::Value) -> Answer<AllocateResponse> {
    steward.allocate(request).await.map_err(ErrorBody::from)
}

/// The series behind an id or occurrence id, with its changed occurrences.
#[tauri::command]
pub async fn reservation(steward: State<'_, Steward>, id: String) -> Answer<Reservation> {
    steward.reservation(id).await.map_err(ErrorBody::from)
}

/// `occurrence` (RFC 3339): only that occurrence of a repeating series.
#[tauri::command]
pub async fn update_reservation(
    steward: State<'_, Steward>,
    id: String,
    occurrence: Option<String>,
    change: serde_json::Value,
) -> Answer<Reservation> {
    steward.update_reservation(id, occurrence, arg(&change)?).await.map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn delete_reservation(steward: State<'_, Steward>, id: String, occurrence: Option<String>) -> Answer<()> {
    steward.delete_reservation(id, occurrence).await.map_err(ErrorBody::from)
}

/// Saves the reservations' `.ics` in the user's Downloads folder and answers the path written:
/// WebKitGTK drops blob downloads unless the app handles them (tauri-apps/tauri#2225).
#[tauri::command]
pub async fn save_reservations_ics(app: tauri::AppHandle, steward: State<'_, Steward>) -> Answer<String> {
    use tauri::Manager;
    let dir = app.path().download_dir().map_err(|e| ErrorBody::internal(format!("no Downloads folder: {e}")))?;
    steward.save_reservations_ics(dir).await.map(|p| p.display().to_string()).map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn allocations(steward: State<'_, Steward>) -> Answer<Vec<Allocation>> {
    steward.allocations().await.map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn cancel_allocation(steward: State<'_, Steward>, id: String) -> Answer<()> {
    steward.cancel_allocation(id).await.map(|_| ()).map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn events(steward: State<'_, Steward>, kind: Option<String>, limit: Option<u32>) -> Answer<Vec<Event>> {
    steward.events(kind, limit).await.map_err(ErrorBody::from)
}
