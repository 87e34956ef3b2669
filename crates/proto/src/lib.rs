//! steward-proto: the node protocol (`proto/agent.proto`) compiled by tonic.

/// `steward.agent.v1`: the node agent service, its client and its messages.
pub mod agent {
    tonic::include_proto!("steward.agent.v1");
}
