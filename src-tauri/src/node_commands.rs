//! Cluster commands: the same operations as `/api/nodes*`, one line each over `Steward`.

use steward_api::{AddNode, NodeView, ProbeRequest, ProbeResult, Steward};
use tauri::State;

#[tauri::command]
pub fn nodes(steward: State<'_, Steward>) -> Vec<NodeView> {
    steward.nodes()
}

#[tauri::command]
pub async fn probe_node(steward: State<'_, Steward>, request: ProbeRequest) -> Result<ProbeResult, String> {
    steward.probe_node(request).await.map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn add_node(steward: State<'_, Steward>, request: AddNode) -> Result<NodeView, String> {
    steward.add_node(request).await.map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn remove_node(steward: State<'_, Steward>, id: String) -> Result<(), String> {
    steward.remove_node(id).await.map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn drain_node(steward: State<'_, Steward>, id: String, draining: bool) -> Result<NodeView, String> {
    steward.drain_node(id, draining).await.map_err(|e| e.to_string())
}
