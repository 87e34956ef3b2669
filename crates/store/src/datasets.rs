//! Datasets the user registered with the nodes that hold them, so data locality survives a
//! restart.

use rusqlite::params;
use steward_core::dispatch::Dataset;

use crate::{Store, StoreError};

impl Store {
    /// Every registered dataset by name, its nodes in the order they were given.
    pub fn datasets(&self) -> Result<Vec<Dataset>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT d.name, d.bytes, n.node FROM datasets d LEFT JOIN dataset_nodes n ON n.dataset = d.name
             ORDER BY d.name, n.position",
        )?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<String>>(2)?)))?;
        let mut out: Vec<Dataset> = Vec::new();
        for row in rows {
            let (name, bytes, node) = row?;
            if out.last().is_none_or(|d| d.name != name) {
                out.push(Dataset { name, bytes: bytes.max(0) as u64, nodes: Vec::new() });
            }
            if let (Some(node), Some(last)) = (node, out.last_mut()) {
                last.nodes.push(node);
            }
        }
        Ok(out)
    }

    /// Registers a dataset, or replaces the one of the same name (its size and nodes).
    pub fn put_dataset(&mut self, dataset: &Dataset, now_ms: i64) -> Result<(), StoreError> {
        // The api refuses such sizes first; this only keeps a wrapped value out of the file.
        let bytes = i64::try_from(dataset.bytes).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM dataset_nodes WHERE dataset = ?1", [&dataset.name])?;
        tx.execute(
            "INSERT OR REPLACE INTO datasets (name, bytes, registered_ms) VALUES (?1, ?2, ?3)",
            params![dataset.name, bytes, now_ms],
        )?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO dataset_nodes (dataset, position, node) VALUES (?1, ?2, ?3)")?;
            for (i, node) in dataset.nodes.iter().enumerate() {
                insert.execute(params![dataset.name, i as i64, node])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// False when no dataset had that name.
    pub fn delete_dataset(&mut self, name: &str) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM dataset_nodes WHERE dataset = ?1", [name])?;
        let n = tx.execute("DELETE FROM datasets WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(name: &str, bytes: u64, nodes: &[&str]) -> Dataset {
        Dataset { name: name.into(), bytes, nodes: nodes.iter().map(ToString::to_string).collect() }
    }

    #[test]
    fn datasets_survive_reopening_and_can_be_replaced_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let logs = dataset("logs", 5_000_000_000, &["b:7443", "a:7443"]);
        let imgs = dataset("images", 0, &["c:7443"]);
        {
            let mut s = Store::open(&path).unwrap();
            s.put_dataset(&logs, 1).unwrap();
            s.put_dataset(&imgs, 2).unwrap();
            // Replacing keeps one row per dataset and only the new nodes.
            s.put_dataset(&dataset("images", 42, &["d:7443"]), 3).unwrap();
        }
        let mut s = Store::open(&path).unwrap();
        assert_eq!(
            s.datasets().unwrap(),
            vec![dataset("images", 42, &["d:7443"]), logs.clone()],
            "by name, nodes in the order given"
        );
        assert!(s.delete_dataset("images").unwrap());
        assert!(!s.delete_dataset("images").unwrap());
        assert_eq!(s.datasets().unwrap(), vec![logs]);
    }

    #[test]
    fn a_size_sqlite_cannot_hold_is_refused_not_wrapped() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        assert!(s.put_dataset(&dataset("huge", u64::MAX, &["a"]), 1).is_err());
        assert!(s.datasets().unwrap().is_empty());
    }
}
