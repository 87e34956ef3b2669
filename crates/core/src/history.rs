//! The shapes of history: what a chart asks for and what it gets back.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::TimestampMs;
use crate::alloc::FieldError;

/// Beyond this a chart gains nothing and a query could return millions of rows.
pub const MAX_POINTS_LIMIT: u32 = 10_000;
/// The latest time a query may name: 9999-12-31T23:59:59.999Z, the last an RFC 3339 date
/// writes. With 0 as the earliest, every span and bucket fits an `i64` with room to spare.
pub const MAX_TIMESTAMP_MS: TimestampMs = 253_402_300_799_999;
/// Series one query may ask for, and the longest name of one.
pub const MAX_SERIES_PER_QUERY: usize = 1_000;
pub const MAX_SERIES_NAME_BYTES: usize = 256;

/// A chart's request: these series, over `[from_ms, to_ms]`, at most `max_points` each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HistoryQuery {
    pub series: Vec<String>,
    pub from_ms: TimestampMs,
    pub to_ms: TimestampMs,
    pub max_points: u32,
}

impl HistoryQuery {
    /// Every out-of-range field, checked before any arithmetic on them.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (field, ts) in [("from_ms", self.from_ms), ("to_ms", self.to_ms)] {
            if !(0..=MAX_TIMESTAMP_MS).contains(&ts) {
                errors.push(FieldError::new(
                    field,
                    format!("must be between 0 and {MAX_TIMESTAMP_MS} (ms since 1970, up to the year 9999), got {ts}"),
                ));
            }
        }
        if errors.is_empty() && self.from_ms > self.to_ms {
            errors.push(FieldError::new("to_ms", format!("is before from_ms ({} < {})", self.to_ms, self.from_ms)));
        }
        if self.max_points == 0 || self.max_points > MAX_POINTS_LIMIT {
            errors.push(FieldError::new(
                "max_points",
                format!("must be between 1 and {MAX_POINTS_LIMIT}, got {}", self.max_points),
            ));
        }
        if self.series.len() > MAX_SERIES_PER_QUERY {
            errors.push(FieldError::new(
                "series",
                format!("at most {MAX_SERIES_PER_QUERY} series per query, got {}", self.series.len()),
            ));
        }
        if let Some(i) = self.series.iter().position(|s| s.len() > MAX_SERIES_NAME_BYTES) {
            errors.push(FieldError::new(format!("series[{i}]"), format!("is over {MAX_SERIES_NAME_BYTES} bytes")));
        }
        errors
    }
}

/// One bucket of a series: the extremes and mean of the samples that fell in it,
/// so a downsampled chart still shows every spike.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HistoryPoint {
    pub ts_ms: TimestampMs,
    pub min: f64,
    pub max: f64,
    pub avg: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SeriesHistory {
    pub series: String,
    /// Resolution of the table the points came from (raw, 1 min, 1 h), in ms.
    pub source_resolution_ms: i64,
    /// Width of each returned bucket, in ms.
    pub bucket_ms: i64,
    pub points: Vec<HistoryPoint>,
}
