//! steward-proto: the node protocol (`proto/agent.proto`) and the module API
//! (`proto/module.proto`) compiled by tonic.
//!
//! Snapshots and inventories travel as JSON of steward-core's types inside the messages: one
//! schema, not two to keep in step.

/// `steward.agent.v1`: the node agent service, its client and its messages.
// Generated code: its style is tonic-prost-build's, not ours.
#[allow(unused_qualifications)]
pub mod agent {
    tonic::include_proto!("steward.agent.v1");
}

/// `steward.module.v1`: the module API (register, report, directives) and its messages.
#[allow(unused_qualifications)]
pub mod module {
    tonic::include_proto!("steward.module.v1");
}
