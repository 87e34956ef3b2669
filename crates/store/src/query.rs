//! Reading history for charts: downsampled to at most `max_points` buckets per series, each
//! keeping min/max/avg so spikes survive, served from the coarsest table that is fine enough.

use rusqlite::OptionalExtension;
use steward_core::{HistoryPoint, HistoryQuery, SeriesHistory};

use crate::tiers::Tier;
use crate::{Store, StoreError};

pub use steward_core::history::MAX_POINTS_LIMIT;

/// How a query is answered: which table, and buckets `[start + k·bucket_ms, ..)` up to `end`.
#[derive(Debug, Clone, Copy)]
struct Plan {
    tier: Tier,
    /// `from_ms` aligned down to the tier's resolution, so rollup rows never straddle buckets.
    start: i64,
    /// Exclusive: `to_ms + 1` aligned up to the tier's resolution.
    end: i64,
    bucket_ms: i64,
}

impl Plan {
    fn new(from_ms: i64, to_ms: i64, max_points: u32) -> Plan {
        let end = to_ms.saturating_add(1);
        let max_points = i128::from(max_points);
        let wanted = ceil_div(i128::from(end) - i128::from(from_ms), max_points);
        // Coarsest table still at least as fine as the bucket we want.
        let tier = Tier::ALL.into_iter().rev().find(|t| i128::from(t.resolution_ms()) <= wanted).unwrap_or(Tier::Raw);
        let res = tier.resolution_ms();
        // Whole resolution units on both ends: a rollup row is either in the range or not.
        let start = align_down(from_ms, res);
        let end = align_down(end.saturating_add(res - 1), res);
        let bucket = ceil_div(i128::from(end) - i128::from(start), max_points).max(1);
        // A multiple of the resolution: bucket boundaries fall on rollup boundaries. Rounding up
        // only makes buckets wider, so there are still at most `max_points` of them.
        let bucket_ms = (ceil_div(bucket, i128::from(res)) * i128::from(res)) as i64;
        Plan { tier, start, end, bucket_ms }
    }
}

/// `x` rounded down to a multiple of `step` (saturating at `i64::MIN`).
pub(crate) fn align_down(x: i64, step: i64) -> i64 {
    x.saturating_sub(x.rem_euclid(step))
}

fn ceil_div(a: i128, b: i128) -> i128 {
    (a + b - 1).div_euclid(b)
}

/// Range checks come first: the plan's arithmetic relies on them.
fn validate(q: &HistoryQuery) -> Result<(), StoreError> {
    let problems = q.problems();
    if problems.is_empty() {
        return Ok(());
    }
    let said: Vec<String> = problems.iter().map(|p| format!("{} {}", p.field, p.message)).collect();
    Err(StoreError::InvalidQuery(said.join("; ")))
}

/// A series' name and `(bucket start, sum)` per bucket that holds data.
pub type SeriesSums = (String, Vec<(i64, f64)>);

/// Partial aggregate of one bucket; segments from different tables merge through it.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    index: i64,
    min: f64,
    max: f64,
    sum: f64,
    count: i64,
}

impl Store {
    /// History of each requested series over `[from_ms, to_ms]`, at most `max_points` buckets
    /// each. Unknown series come back with no points.
    pub fn query(&self, q: &HistoryQuery) -> Result<Vec<SeriesHistory>, StoreError> {
        validate(q)?;
        let plan = Plan::new(q.from_ms, q.to_ms, q.max_points);
        q.series
            .iter()
            .map(|name| {
                let points = match self.series_id(name) {
                    Some(id) => self.query_series(id, &plan)?,
                    None => Vec::new(),
                };
                Ok(SeriesHistory {
                    series: name.clone(),
                    source_resolution_ms: plan.tier.resolution_ms(),
                    bucket_ms: plan.bucket_ms,
                    points,
                })
            })
            .collect()
    }

    /// Sums of each series per bucket over `[from_ms, to_ms]`, as `(bucket start, sum)`: for
    /// series that count something per interval (energy's `.j`), where the average means nothing.
    pub fn sums(&self, q: &HistoryQuery) -> Result<Vec<SeriesSums>, StoreError> {
        validate(q)?;
        let plan = Plan::new(q.from_ms, q.to_ms, q.max_points);
        q.series
            .iter()
            .map(|name| {
                let sums = match self.series_id(name) {
                    Some(id) => self
                        .buckets(id, &plan)?
                        .into_iter()
                        .map(|b| (plan.start + b.index * plan.bucket_ms, b.sum))
                        .collect(),
                    None => Vec::new(),
                };
                Ok((name.clone(), sums))
            })
            .collect()
    }

    fn buckets(&self, series_id: i64, plan: &Plan) -> Result<Vec<Bucket>, StoreError> {
        let mut buckets: Vec<Bucket> = Vec::new();
        for (tier, lo, hi) in self.segments(series_id, plan)? {
            self.aggregate_segment(series_id, plan, tier, lo, hi, &mut buckets)?;
        }
        Ok(buckets)
    }

    fn query_series(&self, series_id: i64, plan: &Plan) -> Result<Vec<HistoryPoint>, StoreError> {
        Ok(self
            .buckets(series_id, plan)?
            .into_iter()
            .map(|b| HistoryPoint {
                ts_ms: plan.start + b.index * plan.bucket_ms,
                min: b.min,
                max: b.max,
                avg: b.sum / b.count as f64,
            })
            .collect())
    }

    /// Which table serves which part of the range, in time order, as `(tier, from, until)`.
    ///
    /// The chosen table serves what it holds. Rollups lag behind the clock, so the part after
    /// its watermark comes from the next finer tables; and the finer tables are pruned sooner,
    /// so the part before the chosen table's oldest row comes from coarser ones.
    fn segments(&self, series_id: i64, plan: &Plan) -> Result<Vec<(Tier, i64, i64)>, StoreError> {
        let p = plan.tier.index();
        let mut segments = Vec::with_capacity(3);

        let lo_primary = self.oldest_within_retention(series_id, plan.tier)?;
        let hi_primary = self.watermarks.end_of(plan.tier);
        segments.push((plan.tier, lo_primary, hi_primary));

        // Older data that only coarser tables still hold.
        let mut before = lo_primary;
        for &tier in &Tier::ALL[p + 1..] {
            let lo = self.oldest_within_retention(series_id, tier)?;
            // Stop at the last rollup row that ends before the finer data starts: a row that
            // covers part of it would count those samples twice.
            let hi = align_down(before, tier.resolution_ms()).min(self.watermarks.end_of(tier));
            segments.push((tier, lo, hi));
            before = before.min(lo);
        }
        // Recent data the rollups have not reached yet.
        let mut after = hi_primary;
        for &tier in Tier::ALL[..p].iter().rev() {
            let hi = self.watermarks.end_of(tier);
            segments.push((tier, after, hi));
            after = after.max(hi);
        }

        let mut segments: Vec<_> = segments
            .into_iter()
            .map(|(t, lo, hi)| (t, lo.max(plan.start), hi.min(plan.end)))
            .filter(|(_, lo, hi)| lo < hi)
            .collect();
        segments.sort_by_key(|s| s.1);
        Ok(segments)
    }

    /// Where `tier` starts holding data for the series (`i64::MAX` if it holds none). The
    /// coarsest table has nothing coarser to fall back on, so it is never asked.
    fn oldest_within_retention(&self, series_id: i64, tier: Tier) -> Result<i64, StoreError> {
        if tier == Tier::Hour {
            return Ok(i64::MIN);
        }
        let sql = format!("SELECT min(ts_ms) FROM {} WHERE series_id = ?1", tier.table());
        let oldest: Option<i64> =
            self.conn.prepare_cached(&sql)?.query_row([series_id], |r| r.get(0)).optional()?.flatten();
        Ok(oldest.unwrap_or(i64::MAX))
    }

    fn aggregate_segment(
        &self,
        series_id: i64,
        plan: &Plan,
        tier: Tier,
        lo: i64,
        hi: i64,
        out: &mut Vec<Bucket>,
    ) -> Result<(), StoreError> {
        let aggregates = match tier {
            Tier::Raw => "min(value), max(value), sum(value), count(*)",
            Tier::Minute | Tier::Hour => "min(min), max(max), sum(sum), sum(count)",
        };
        // ts_ms >= lo >= plan.start, so the integer division is a floor.
        let sql = format!(
            "SELECT (ts_ms - ?2) / ?3 AS b, {aggregates} FROM {table}
             WHERE series_id = ?1 AND ts_ms >= ?4 AND ts_ms < ?5
             GROUP BY b ORDER BY b",
            table = tier.table()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query((series_id, plan.start, plan.bucket_ms, lo, hi))?;
        while let Some(row) = rows.next()? {
            let b =
                Bucket { index: row.get(0)?, min: row.get(1)?, max: row.get(2)?, sum: row.get(3)?, count: row.get(4)? };
            match out.last_mut() {
                // A bucket straddling two tables' boundary: merge the partial aggregates.
                Some(last) if last.index == b.index => {
                    last.min = last.min.min(b.min);
                    last.max = last.max.max(b.max);
                    last.sum += b.sum;
                    last.count += b.count;
                }
                _ => out.push(b),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_never_exceeds_max_points_and_aligns_to_resolution() {
        for (from, to, max) in [
            (0, 86_400_000, 1000),
            (12_345, 86_400_000 * 7 + 17, 500),
            (1_000, 1_999, 1000),
            (5, 5, 1),
            (1_700_000_012_345, 1_700_000_312_345, 300),
            (i64::MIN / 2, i64::MAX / 2, 10_000),
        ] {
            let p = Plan::new(from, to, max);
            let res = p.tier.resolution_ms();
            assert_eq!(p.start % res, 0);
            assert_eq!(p.bucket_ms % res, 0);
            assert!(p.bucket_ms >= res);
            let buckets = ceil_div(i128::from(p.end) - i128::from(p.start), i128::from(p.bucket_ms));
            assert!(buckets <= i128::from(max), "{from}..{to}/{max}: {buckets} buckets");
        }
    }

    #[test]
    fn plan_picks_the_coarsest_table_that_is_fine_enough() {
        assert_eq!(Plan::new(0, 300_000, 300).tier, Tier::Raw); // 5 min: 1 s buckets
        assert_eq!(Plan::new(0, 86_400_000, 1000).tier, Tier::Minute); // 24 h: 86.4 s
        assert_eq!(Plan::new(0, 30 * 86_400_000, 500).tier, Tier::Hour); // 30 d: 1.44 h
    }
}
