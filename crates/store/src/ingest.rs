//! Writing raw samples: one transaction per call, one cached prepared statement.

use steward_core::series::SeriesValue;

use crate::{Store, StoreError, series_ids};

impl Store {
    /// Stores the values of one instant. A second value for the same series and instant replaces
    /// the first. Non-finite values are skipped (they would poison min/max/avg).
    pub fn insert(&mut self, ts_ms: i64, values: &[SeriesValue]) -> Result<(), StoreError> {
        self.insert_batch([(ts_ms, values)])
    }

    /// Stores many instants in one transaction: the cheap way to ingest backlogs or buffered
    /// samples (one fsync-free commit per batch instead of per instant).
    pub fn insert_batch<'a>(
        &mut self,
        batch: impl IntoIterator<Item = (i64, &'a [SeriesValue])>,
    ) -> Result<(), StoreError> {
        let result = self.insert_in_transaction(batch);
        if result.is_err() {
            // Ids created inside the rolled-back transaction do not exist.
            self.reload_series_ids()?;
        }
        result
    }

    fn insert_in_transaction<'a>(
        &mut self,
        batch: impl IntoIterator<Item = (i64, &'a [SeriesValue])>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT OR REPLACE INTO samples_raw (series_id, ts_ms, value) VALUES (?1, ?2, ?3)")?;
            for (ts_ms, values) in batch {
                for v in values.iter().filter(|v| v.value.is_finite()) {
                    let id = series_ids::id_or_create(&tx, &mut self.series_ids, &v.series)?;
                    stmt.execute((id, ts_ms, v.value))?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}
