//! One series at the 1-minute rollups' own resolution, for the forecaster: each stored minute's
//! mean, never re-bucketed and never mixed with another table (a chart query aligns its range
//! to buckets that move with the request time; a model fitted on those would move with it too).

use crate::tiers::Tier;
use crate::{Store, StoreError};

impl Store {
    /// Exclusive end of what the 1-minute table holds (`i64::MIN` before the first rollup). It
    /// moves only when rollups run, so a window ending here depends on the stored history alone.
    pub fn minute_watermark(&self) -> i64 {
        self.watermarks.end_of(Tier::Minute)
    }

    /// `(minute start, mean)` of every stored minute of `series` in `[from_ms, minute_watermark)`,
    /// oldest first. Unknown series have none.
    pub fn minute_means(&self, series: &str, from_ms: i64) -> Result<Vec<(i64, f64)>, StoreError> {
        let Some(id) = self.series_id(series) else { return Ok(vec![]) };
        let sql = format!(
            "SELECT ts_ms, sum / count FROM {} WHERE series_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY ts_ms",
            Tier::Minute.table()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map((id, from_ms, self.minute_watermark()), |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use steward_core::series::SeriesValue;

    use super::*;
    use crate::RetentionPolicy;
    use crate::tiers::MINUTE_MS;

    /// Three hours of samples every 10 s, value = minute index (plus a spread within the minute).
    fn store_with_three_hours() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("m.db")).unwrap();
        let batch: Vec<(i64, Vec<SeriesValue>)> = (0..3 * 360)
            .map(|i: i64| {
                let value = (i / 6) as f64 + (i % 6) as f64 / 10.0;
                (i * 10_000, vec![SeriesValue { series: "cpu.total".into(), value }])
            })
            .collect();
        store.insert_batch(batch.iter().map(|(t, v)| (*t, v.as_slice()))).unwrap();
        store.maintain(3 * 3_600_000 + 30_000, &RetentionPolicy::default()).unwrap();
        (dir, store)
    }

    #[test]
    fn every_stored_minute_comes_back_at_its_own_resolution() {
        let (_dir, store) = store_with_three_hours();
        let means = store.minute_means("cpu.total", 0).unwrap();
        assert_eq!(means.len(), 180);
        for (k, (ts, mean)) in means.iter().enumerate() {
            assert_eq!(*ts, k as i64 * MINUTE_MS);
            assert!((mean - (k as f64 + 0.25)).abs() < 1e-9, "minute {k}: {mean}");
        }
        assert_eq!(store.minute_means("cpu.total", 90 * MINUTE_MS).unwrap().len(), 90);
        assert!(store.minute_means("no.such", 0).unwrap().is_empty());
    }

    #[test]
    fn the_hour_table_is_never_read_while_minutes_exist() {
        let (_dir, store) = store_with_three_hours();
        let hour_rows: i64 = store.conn.query_row("SELECT count(*) FROM samples_1h", [], |r| r.get(0)).unwrap();
        assert_eq!(hour_rows, 3, "the test needs hour rollups over the same minutes");
        // Hour rows that disagree with the minutes: reading them would show.
        store.conn.execute("UPDATE samples_1h SET sum = 1e9, min = 1e9, max = 1e9", []).unwrap();
        let means = store.minute_means("cpu.total", 0).unwrap();
        assert_eq!(means.len(), 180);
        assert!(means.iter().all(|(_, m)| *m < 200.0), "{means:?}");
    }

    #[test]
    fn raw_samples_past_the_watermark_are_not_read() {
        let (_dir, mut store) = store_with_three_hours();
        let late = [SeriesValue { series: "cpu.total".into(), value: 5e5 }];
        store.insert(3 * 3_600_000 + 5_000, &late).unwrap();
        assert_eq!(store.minute_watermark(), 3 * 3_600_000);
        let means = store.minute_means("cpu.total", 0).unwrap();
        assert_eq!(means.last().map(|m| m.0), Some(179 * MINUTE_MS));
    }
}
