//! Cluster commands: the same operations as `/api/nodes*`, one line each over `Steward`.

use steward_api::backend::BackendInfo;
use steward_api::{ErrorBody, NodeView, ProbeResult, Steward};
use tauri::State;

use crate::answer::{Answer, arg};

#[tauri::command]
pub async fn backend(steward: State<'_, Steward>) -> Answer<BackendInfo> {
    steward.backend_info().await.map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn nodes(steward: State<'_, Steward>) -> Answer<Vec<NodeView>> {
    steward.cluster_nodes().await.map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn probe_node(steward: State<'_, Steward>, request: serde_json::Value) -> Answer<ProbeResult> {
    steward.probe_node(arg(&request)?).await.map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn add_node(steward: State<'_, Steward>, request: serde_json::Value) -> Answer<NodeView> {
    steward.add_node(arg(&request)?).await.map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn remove_node(steward: State<'_, Steward>, id: String) -> Answer<()> {
    steward.remove_node(id).await.map_err(ErrorBody::from)
}

#[tauri::command]
pub async fn drain_node(steward: State<'_, Steward>, id: String, draining: bool) -> Answer<NodeView> {
    steward.drain_node(id, draining).await.map_err(ErrorBody::from)
}
