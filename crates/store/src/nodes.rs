//! Cluster nodes the user added, so the control center dials them again after a restart. Their
//! tokens are sealed at rest (`secrets.rs`); rows written before that are sealed at open.

use rusqlite::{Connection, params};
use steward_core::cluster::NodeRecord;

use crate::secrets::{SecretBox, is_sealed};
use crate::{Store, StoreError};

impl Store {
    /// Every added node, oldest first.
    pub fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT address, token, fingerprint, draining, added_ms, node_id FROM cluster_nodes ORDER BY added_ms, address",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(NodeRecord {
                address: r.get(0)?,
                token: r.get(1)?,
                fingerprint: r.get(2)?,
                draining: r.get::<_, i64>(3)? != 0,
                added_ms: r.get(4)?,
                node_id: r.get(5)?,
            })
        })?;
        let mut nodes = rows.collect::<Result<Vec<_>, _>>()?;
        for node in &mut nodes {
            node.token = self.secrets.open(&node.token)?;
        }
        Ok(nodes)
    }

    /// Adds a node, or replaces the one at the same address (a new token or certificate).
    pub fn put_node(&mut self, node: &NodeRecord) -> Result<(), StoreError> {
        let sealed = self.secrets.seal(&node.token)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO cluster_nodes (address, token, fingerprint, draining, added_ms, node_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![node.address, sealed, node.fingerprint, node.draining as i64, node.added_ms, node.node_id],
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

/// Whether any stored token is sealed already (then its key must exist).
pub(crate) fn any_sealed(conn: &Connection) -> Result<bool, StoreError> {
    let tokens = stored_tokens(conn)?;
    Ok(tokens.iter().any(|(_, t)| is_sealed(t)))
}

/// Seals the tokens still stored in plain text (written by a build before sealing), in one
/// transaction.
pub(crate) fn seal_plain_tokens(conn: &mut Connection, secrets: &SecretBox) -> Result<(), StoreError> {
    let plain: Vec<_> = stored_tokens(conn)?.into_iter().filter(|(_, t)| !is_sealed(t)).collect();
    if plain.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for (address, token) in plain {
        tx.execute("UPDATE cluster_nodes SET token = ?2 WHERE address = ?1", params![address, secrets.seal(&token)?])?;
    }
    tx.commit()?;
    Ok(())
}

fn stored_tokens(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn.prepare("SELECT address, token FROM cluster_nodes")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(address: &str, token: &str, added_ms: i64) -> NodeRecord {
        NodeRecord {
            address: address.into(),
            token: token.into(),
            fingerprint: Some("sha256:ab".into()),
            draining: false,
            added_ms,
            node_id: Some(format!("id-{address}")),
        }
    }

    #[test]
    fn nodes_survive_reopening_and_can_be_drained_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let a = record("127.0.0.1:7001", "t", 5);
        let b = NodeRecord { fingerprint: None, node_id: None, ..record("127.0.0.1:7002", "u", 6) };
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

    /// The database file alone holds no usable token: they are sealed under the key beside it,
    /// and rows an older build wrote in plain text are sealed when the database is opened.
    #[test]
    fn tokens_are_sealed_at_rest_and_plain_rows_are_sealed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let raw = |path: &std::path::Path| -> Vec<String> {
            let conn = Connection::open(path).unwrap();
            let mut stmt = conn.prepare("SELECT token FROM cluster_nodes ORDER BY address").unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
        };
        {
            let mut s = Store::open(&path).unwrap();
            s.put_node(&record("127.0.0.1:7001", "first-secret-token", 1)).unwrap();
        }
        assert!(raw(&path).iter().all(|t| t.starts_with("enc1:") && !t.contains("secret")), "{:?}", raw(&path));
        // A row as an older build wrote it.
        Connection::open(&path)
            .unwrap()
            .execute(
                "INSERT INTO cluster_nodes (address, token, fingerprint, draining, added_ms) VALUES ('h:2', 'plain-secret-token', NULL, 0, 2)",
                [],
            )
            .unwrap();
        let s = Store::open(&path).unwrap();
        assert!(raw(&path).iter().all(|t| t.starts_with("enc1:") && !t.contains("secret")), "{:?}", raw(&path));
        let tokens: Vec<String> = s.nodes().unwrap().into_iter().map(|n| n.token).collect();
        assert_eq!(tokens, ["first-secret-token", "plain-secret-token"]);
        drop(s);
        // Without its key the database refuses to open rather than lose the tokens.
        std::fs::remove_file(crate::secrets::key_path(&path)).unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
