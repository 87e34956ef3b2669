//! Nodes of the cluster as the control center sees them: their states, the phi-accrual failure
//! detector that derives "suspect" and "down" from the heartbeat stream, and the records kept
//! to dial them again.

mod node;
pub mod phi;

pub use node::{EngineFacts, NodeHealth, NodeRecord, NodeView, node_state};
pub use phi::{PhiConfig, PhiDetector};
