//! Periodic upkeep: roll raw samples up into 1-minute and 1-hour tables, then prune by age and
//! by disk size. Every step commits on its own and records how far it got, so a crash between
//! steps loses nothing and a rerun does nothing twice.

use rusqlite::params;

use crate::query::align_down;
use crate::tiers::{HOUR_MS, MINUTE_MS, Tier, Watermarks};
use crate::{Store, StoreError};

const DAY_MS: i64 = 24 * HOUR_MS;

/// How long each resolution is kept, and how large the file may grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub raw_ms: i64,
    /// Keep at least 7 days here: the disk limit never prunes 1-minute data younger than that.
    pub minute_ms: i64,
    pub hour_ms: i64,
    /// Live data (pages in use) above this triggers size-based pruning.
    pub max_bytes: u64,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self { raw_ms: 48 * HOUR_MS, minute_ms: 8 * DAY_MS, hour_ms: 400 * DAY_MS, max_bytes: 2 * 1024 * 1024 * 1024 }
    }
}

/// 1-minute data younger than this survives even the disk limit.
const MINUTE_FLOOR_MS: i64 = 7 * DAY_MS;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    pub minute_rows_written: usize,
    pub hour_rows_written: usize,
    pub raw_deleted: usize,
    pub minute_deleted: usize,
    pub hour_deleted: usize,
    /// Database size (pages × page size) before and after, WAL excluded.
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Still above `max_bytes` after pruning everything the policy allows.
    pub over_limit: bool,
}

impl Store {
    /// Rolls up complete minutes and hours as of `now_ms`, then applies `policy`.
    pub fn maintain(&mut self, now_ms: i64, policy: &RetentionPolicy) -> Result<MaintenanceReport, StoreError> {
        let mut report = MaintenanceReport { bytes_before: self.file_bytes()?, ..Default::default() };

        let minute_target = now_ms.div_euclid(MINUTE_MS) * MINUTE_MS;
        report.minute_rows_written = self.roll_up(Tier::Raw, Tier::Minute, minute_target)?;
        // An hour is complete only once all its minutes are.
        let hour_target = now_ms.min(self.watermarks.minute).div_euclid(HOUR_MS) * HOUR_MS;
        report.hour_rows_written = self.roll_up(Tier::Minute, Tier::Hour, hour_target)?;

        // Never prune what has not been rolled up yet, and cut on the next tier's boundaries so
        // a rollup row never covers a half-pruned interval (queries would count it twice).
        let w = self.watermarks;
        let raw_cutoff = align_down((now_ms - policy.raw_ms).min(w.minute), MINUTE_MS);
        report.raw_deleted = self.delete_older(Tier::Raw, raw_cutoff)?;
        let minute_cutoff = align_down((now_ms - policy.minute_ms).min(w.hour), HOUR_MS);
        report.minute_deleted = self.delete_older(Tier::Minute, minute_cutoff)?;
        report.hour_deleted = self.delete_older(Tier::Hour, now_ms - policy.hour_ms)?;

        report.over_limit = self.enforce_size_limit(now_ms, policy.max_bytes, &mut report)?;

        if report.raw_deleted + report.minute_deleted + report.hour_deleted > 0 {
            // Give freed pages back to the file system, then fold the WAL in so the file shrinks.
            // Each step of this pragma frees one page, so it must be stepped to the end.
            let mut vacuum = self.conn.prepare("PRAGMA incremental_vacuum")?;
            let mut steps = vacuum.query([])?;
            while steps.next()?.is_some() {}
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        report.bytes_after = self.file_bytes()?;
        Ok(report)
    }

    /// Aggregates `source` rows in `[watermark, target)` into `dest`, advancing the watermark in
    /// the same transaction. Returns the rows written.
    fn roll_up(&mut self, source: Tier, dest: Tier, target: i64) -> Result<usize, StoreError> {
        let (name, from) = match dest {
            Tier::Minute => (Watermarks::NAME_MINUTE, self.watermarks.minute),
            Tier::Hour => (Watermarks::NAME_HOUR, self.watermarks.hour),
            Tier::Raw => unreachable!("raw is never a rollup target"),
        };
        if target <= from {
            return Ok(0);
        }
        let aggregates = match source {
            Tier::Raw => "min(r.value), max(r.value), sum(r.value), count(*)",
            _ => "min(r.min), max(r.max), sum(r.sum), sum(r.count)",
        };
        let res = dest.resolution_ms();
        // CROSS JOIN keeps `series` as the outer loop, so each series is a primary-key range
        // seek instead of a scan of the whole source table.
        let sql = format!(
            "INSERT OR REPLACE INTO {dest} (series_id, ts_ms, min, max, sum, count)
             SELECT r.series_id, r.ts_ms / {res} * {res} AS bucket, {aggregates}
             FROM series s CROSS JOIN {src} r
             WHERE r.series_id = s.id AND r.ts_ms >= ?1 AND r.ts_ms < ?2
             GROUP BY r.series_id, bucket",
            dest = dest.table(),
            src = source.table(),
        );
        let tx = self.conn.transaction()?;
        let written = tx.execute(&sql, params![from, target])?;
        tx.execute(
            "INSERT INTO rollup_watermark (tier, done_until_ms) VALUES (?1, ?2)
             ON CONFLICT (tier) DO UPDATE SET done_until_ms = excluded.done_until_ms",
            params![name, target],
        )?;
        tx.commit()?;
        match dest {
            Tier::Minute => self.watermarks.minute = target,
            _ => self.watermarks.hour = target,
        }
        Ok(written)
    }

    /// Deletes rows of `tier` with `ts_ms < cutoff`; one statement, so atomic and repeatable.
    fn delete_older(&self, tier: Tier, cutoff: i64) -> Result<usize, StoreError> {
        // `series_id IN (...)` lets SQLite seek each series' key range instead of scanning.
        let sql = format!("DELETE FROM {} WHERE series_id IN (SELECT id FROM series) AND ts_ms < ?1", tier.table());
        Ok(self.conn.prepare_cached(&sql)?.execute([cutoff])?)
    }

    /// Prunes oldest-first — raw, then 1-minute data older than a week, then hourly — one slice
    /// at a time until the live data fits. Returns whether it still does not.
    fn enforce_size_limit(
        &mut self,
        now_ms: i64,
        max_bytes: u64,
        report: &mut MaintenanceReport,
    ) -> Result<bool, StoreError> {
        let w = self.watermarks;
        // (tier, prune nothing at or after, slice per step, boundary the cut must fall on)
        let phases = [
            (Tier::Raw, w.minute, HOUR_MS, MINUTE_MS),
            (Tier::Minute, align_down((now_ms - MINUTE_FLOOR_MS).min(w.hour), HOUR_MS), HOUR_MS, HOUR_MS),
            (Tier::Hour, i64::MAX, DAY_MS, 1),
        ];
        for (tier, limit, slice, boundary) in phases {
            while self.live_bytes()? > max_bytes {
                let Some(oldest) = self.oldest_row(tier)? else {
                    break;
                };
                if oldest >= limit {
                    break;
                }
                let cutoff = align_down(oldest.saturating_add(slice), boundary).min(limit);
                let n = self.delete_older(tier, cutoff)?;
                match tier {
                    Tier::Raw => report.raw_deleted += n,
                    Tier::Minute => report.minute_deleted += n,
                    Tier::Hour => report.hour_deleted += n,
                }
            }
        }
        Ok(self.live_bytes()? > max_bytes)
    }

    /// Oldest timestamp in `tier` across all series: one index seek per series, no table scan.
    fn oldest_row(&self, tier: Tier) -> Result<Option<i64>, StoreError> {
        let sql = format!("SELECT min((SELECT min(ts_ms) FROM {} WHERE series_id = s.id)) FROM series s", tier.table());
        Ok(self.conn.prepare_cached(&sql)?.query_row([], |r| r.get(0))?)
    }

    fn pragma_u64(&self, name: &str) -> Result<u64, StoreError> {
        let v: i64 = self.conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?;
        Ok(v as u64)
    }

    /// Size of the database file proper (pages × page size).
    pub fn file_bytes(&self) -> Result<u64, StoreError> {
        Ok(self.pragma_u64("page_count")? * self.pragma_u64("page_size")?)
    }

    /// Bytes in pages that hold data: what the file shrinks to after an incremental vacuum.
    pub fn live_bytes(&self) -> Result<u64, StoreError> {
        let pages = self.pragma_u64("page_count")? - self.pragma_u64("freelist_count")?;
        Ok(pages * self.pragma_u64("page_size")?)
    }
}
