//! The shapes of history: what a chart asks for and what it gets back.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::TimestampMs;

/// A chart's request: these series, over `[from_ms, to_ms]`, at most `max_points` each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HistoryQuery {
    pub series: Vec<String>,
    pub from_ms: TimestampMs,
    pub to_ms: TimestampMs,
    pub max_points: u32,
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
