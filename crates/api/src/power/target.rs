//! One node's power knobs, wherever it is: this machine's `PowerControl` (on a blocking thread)
//! or an agent's over gRPC (on the cluster runtime, where agent connections live).

use std::sync::Arc;

use steward_core::power::{DeviceSettings, Knob, Measurement};
use steward_telemetry::power_control::{ControlError, PowerControl};

use super::PowerManager;
use crate::{AgentClient, ApiError};

#[derive(Clone)]
pub(crate) enum NodeTarget {
    Local(Arc<PowerControl>),
    Remote { node: String, client: Box<AgentClient>, runtime: tokio::runtime::Handle },
}

impl PowerManager {
    /// The node's power knobs: 404 for an unknown node, 409 for one that is down.
    pub(crate) fn power_target(&self, node: &str) -> Result<NodeTarget, ApiError> {
        if node == crate::cluster::LOCAL_NODE {
            return Ok(NodeTarget::Local(self.local.clone()));
        }
        if !self.cluster.node_states().iter().any(|(id, _, _)| id == node) {
            return Err(ApiError::NotFound(format!("no node {node:?}")));
        }
        let client = self
            .cluster
            .agent(node)
            .ok_or_else(|| ApiError::Conflict(format!("node {node} is down: its power cannot be changed")))?;
        Ok(NodeTarget::Remote {
            node: node.to_string(),
            client: Box::new(client),
            runtime: self.cluster.runtime_handle(),
        })
    }
}

fn call_failed(node: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Conflict(format!("node {node} did not answer the power call: {e}"))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(format!("power call failed: {e}")))
}

impl NodeTarget {
    pub(crate) async fn settings(&self) -> Result<Vec<DeviceSettings>, ApiError> {
        match self {
            NodeTarget::Local(c) => {
                let c = c.clone();
                blocking(move || c.devices()).await
            }
            NodeTarget::Remote { node, client, runtime } => {
                let client = AgentClient::clone(client);
                let r = runtime.spawn(async move { client.power_settings().await }).await;
                r.map_err(|e| call_failed(node, e))?.map_err(|e| call_failed(node, e))
            }
        }
    }

    pub(crate) async fn set(
        &self,
        device: &str,
        knob: Knob,
        value: &str,
        dry_run: bool,
    ) -> Result<Result<(), ControlError>, ApiError> {
        let (device, value) = (device.to_string(), value.to_string());
        match self {
            NodeTarget::Local(c) => {
                let c = c.clone();
                blocking(move || c.set(&device, knob, &value, dry_run)).await
            }
            NodeTarget::Remote { node, client, runtime } => {
                let client = AgentClient::clone(client);
                let r = runtime.spawn(async move { client.set_power(&device, knob, &value, dry_run).await }).await;
                r.map_err(|e| call_failed(node, e))?.map_err(|e| call_failed(node, e))
            }
        }
    }

    pub(crate) async fn measure(
        &self,
        device: &str,
        seconds: f64,
    ) -> Result<Result<Measurement, ControlError>, ApiError> {
        let device = device.to_string();
        let ms = (seconds * 1000.0).round().clamp(1.0, 60_000.0) as u32;
        match self {
            NodeTarget::Local(c) => {
                let c = c.clone();
                blocking(move || c.measure(&device, std::time::Duration::from_millis(ms.into()))).await
            }
            NodeTarget::Remote { node, client, runtime } => {
                let client = AgentClient::clone(client);
                let r = runtime.spawn(async move { client.measure_power(&device, ms).await }).await;
                r.map_err(|e| call_failed(node, e))?.map_err(|e| call_failed(node, e))
            }
        }
    }
}
