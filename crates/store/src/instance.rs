//! This database's identity: a random id made when it was created.

use crate::{Store, StoreError};

impl Store {
    /// The id this control center's agents know its tasks by (stable across restarts).
    pub fn instance_id(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row("SELECT id FROM instance", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn the_id_is_random_per_database_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
        let first = Store::open(&a).unwrap().instance_id().unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(Store::open(&a).unwrap().instance_id().unwrap(), first);
        assert_ne!(Store::open(&b).unwrap().instance_id().unwrap(), first);
    }
}
