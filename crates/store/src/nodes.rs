//! Cluster nodes the user added, so the control center dials them again after a restart.

use rusqlite::params;
use steward_core::cluster::NodeRecord;

use crate::{Store, StoreError};

impl Store {
    /// Every added node, oldest first.
    pub fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT address, token, fingerprint, draining, added_ms FROM cluster_nodes ORDER BY added_ms, address",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(NodeRecord {
                address: r.get(0)?,
                token: r.get(1)?,
                fingerprint: r.get(2)?,
                draining: r.get::<_, i64>(3)? != 0,
                added_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds a node, or replaces the one at the same address (a new token or certificate).
    pub fn put_node(&mut self, node: &NodeRecord) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO cluster_nodes (address, token, fingerprint, draining, added_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![node.address, node.token, node.fingerprint, node.draining as i64, node.added_ms],
        )?;
        Ok(())
    }

    /// False when there was no node at `address`.
    pub fn set_node_draining(&mut self, address: &str, draining: bool) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("UPDATE cluster_nodes SET draining = ?2 WHERE address = ?1", params![address, draining as i64])?
            > 0)
    }

    /// False when there was no node at `address`.
    pub fn delete_node(&mut self, address: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute("DELETE FROM cluster_nodes WHERE address = ?1", [address])? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_survive_reopening_and_can_be_drained_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let a = NodeRecord {
            address: "127.0.0.1:7001".into(),
            token: "t".into(),
            fingerprint: Some("sha256:ab".into()),
            draining: false,
            added_ms: 5,
        };
        let b = NodeRecord {
            address: "127.0.0.1:7002".into(),
            token: "u".into(),
            fingerprint: None,
            draining: false,
            added_ms: 6,
        };
        {
            let mut s = Store::open(&path).unwrap();
            s.put_node(&a).unwrap();
            s.put_node(&b).unwrap();
            assert!(s.set_node_draining(&b.address, true).unwrap());
            assert!(!s.set_node_draining("nowhere:1", true).unwrap());
        }
        let mut s = Store::open(&path).unwrap();
        let nodes = s.nodes().unwrap();
        assert_eq!(nodes, vec![a.clone(), NodeRecord { draining: true, ..b.clone() }]);
        assert!(s.delete_node(&a.address).unwrap());
        assert!(!s.delete_node(&a.address).unwrap());
        assert_eq!(s.nodes().unwrap().len(), 1);
    }
}
