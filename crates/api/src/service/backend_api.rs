//! The cluster engine in use (`crate::backend`): which one, and the views that come from it.

use steward_core::alloc::NodeResources;
use steward_core::cluster::NodeView;

use super::Steward;
use crate::ApiError;
use crate::backend::{BackendInfo, front};

impl Steward {
    /// Which engine this control center drives, and how each operation is done.
    pub async fn backend_info(&self) -> Result<BackendInfo, ApiError> {
        match &self.backend {
            Some(b) => front::off_runtime(b, |b| Ok(b.info())).await,
            None => Ok(front::native_info()),
        }
    }

    /// The cluster view's nodes: this machine and its agents, or the external engine's nodes.
    pub async fn cluster_nodes(&self) -> Result<Vec<NodeView>, ApiError> {
        match &self.backend {
            Some(b) => front::off_runtime(b, |b| b.nodes()).await,
            None => Ok(self.nodes()),
        }
    }

    /// The calendar's rows: what each node has.
    pub async fn calendar_resources(&self) -> Result<Vec<NodeResources>, ApiError> {
        match &self.backend {
            Some(b) => front::off_runtime(b, |b| b.resources()).await,
            None => Ok(self.resources()),
        }
    }
}
