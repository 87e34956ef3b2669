//! The cluster: `/api/backend` (which engine), `/api/nodes` (list, probe, add, remove, drain) and `/api/nodes/live`, the same
//! list pushed once a second over a WebSocket. One-line handlers over `Steward`.

use std::time::Duration;

use axum::Json;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use steward_api::backend::BackendInfo;
use steward_api::{AddNode, NodeView, ProbeRequest, ProbeResult, Steward};

use super::json::JsonBody;
use crate::error::HttpError;

/// Which engine this control center drives (`native` or `slurm`) and how each operation is done.
pub async fn backend(State(s): State<Steward>) -> Result<Json<BackendInfo>, HttpError> {
    Ok(Json(s.backend_info().await?))
}

pub async fn list(State(s): State<Steward>) -> Result<Json<Vec<NodeView>>, HttpError> {
    Ok(Json(s.cluster_nodes().await?))
}

pub async fn probe(
    State(s): State<Steward>,
    JsonBody(req): JsonBody<ProbeRequest>,
) -> Result<Json<ProbeResult>, HttpError> {
    Ok(Json(s.probe_node(req).await?))
}

pub async fn add(
    State(s): State<Steward>,
    JsonBody(req): JsonBody<AddNode>,
) -> Result<(StatusCode, Json<NodeView>), HttpError> {
    Ok((StatusCode::CREATED, Json(s.add_node(req).await?)))
}

pub async fn remove(State(s): State<Steward>, Path(id): Path<String>) -> Result<StatusCode, HttpError> {
    s.remove_node(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn drain(State(s): State<Steward>, Path(id): Path<String>) -> Result<Json<NodeView>, HttpError> {
    Ok(Json(s.drain_node(id, true).await?))
}

pub async fn undrain(State(s): State<Steward>, Path(id): Path<String>) -> Result<Json<NodeView>, HttpError> {
    Ok(Json(s.drain_node(id, false).await?))
}

pub async fn live(State(s): State<Steward>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| stream(s, socket))
}

async fn stream(steward: Steward, mut socket: WebSocket) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let Ok(nodes) = steward.cluster_nodes().await else { continue };
                let Ok(text) = serde_json::to_string(&nodes) else { return };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
