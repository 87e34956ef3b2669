//! One node per agent: an agent is known by the id it generated on its first start (and, over
//! TLS, by its certificate), not by the address it was reached at — `127.0.0.1:P` and
//! `localhost:P` are the same agent, and counting it twice would double its cores.

use steward_core::cluster::NodeRecord;
use steward_core::credential::normalize_fingerprint;

use crate::ApiError;

/// The fingerprint as typed, in its one canonical form; blank is none (plain text).
pub(super) fn canonical_fingerprint(given: Option<&str>) -> Result<Option<String>, ApiError> {
    match given.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => Ok(Some(normalize_fingerprint(f).map_err(|e| ApiError::InvalidInput(e.to_string()))?)),
        None => Ok(None),
    }
}

/// The node already added for the agent with `node_id` (or the certificate `fingerprint`).
pub(super) fn same_agent<'a>(
    nodes: &'a [NodeRecord],
    node_id: &str,
    fingerprint: Option<&str>,
) -> Option<&'a NodeRecord> {
    nodes.iter().find(|n| {
        let same_id = !node_id.is_empty() && n.node_id.as_deref() == Some(node_id);
        let same_cert = fingerprint.is_some() && n.fingerprint.as_deref() == fingerprint;
        same_id || same_cert
    })
}

/// The refusal, naming the node it would duplicate.
pub(super) fn already_added(existing: &NodeRecord, address: &str) -> ApiError {
    ApiError::InvalidInput(format!(
        "the agent at {address} is already in the cluster as node {} (same agent id or certificate): \
         one agent is one node; remove {} first to add it under another address",
        existing.address, existing.address
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(address: &str, node_id: Option<&str>, fingerprint: Option<&str>) -> NodeRecord {
        NodeRecord {
            address: address.into(),
            token: "t".into(),
            fingerprint: fingerprint.map(Into::into),
            draining: false,
            added_ms: 0,
            node_id: node_id.map(Into::into),
        }
    }

    #[test]
    fn an_agent_is_found_by_its_id_or_certificate_not_its_address() {
        let fp = format!("sha256:{}", "ab".repeat(32));
        let nodes = [node("127.0.0.1:7879", Some("id-a"), None), node("10.0.0.2:7879", None, Some(&fp))];
        assert_eq!(same_agent(&nodes, "id-a", None).unwrap().address, "127.0.0.1:7879");
        assert_eq!(same_agent(&nodes, "id-b", Some(&fp)).unwrap().address, "10.0.0.2:7879");
        assert!(same_agent(&nodes, "id-b", None).is_none());
        assert!(same_agent(&nodes, "", None).is_none(), "an agent without an id matches nothing by id");
        assert!(already_added(&nodes[0], "localhost:7879").to_string().contains("as node 127.0.0.1:7879"));
    }

    #[test]
    fn fingerprints_are_stored_in_one_form_and_malformed_ones_refused() {
        let hex = "8076178FCC".repeat(6) + "ABCD";
        assert_eq!(
            canonical_fingerprint(Some(&format!("shA256:{hex}"))).unwrap(),
            Some(format!("sha256:{}", hex.to_lowercase()))
        );
        assert_eq!(canonical_fingerprint(Some("  ")).unwrap(), None);
        assert!(canonical_fingerprint(Some("sha256:xyz")).unwrap_err().to_string().contains("SHA-256"));
    }
}
