#![allow(dead_code)]

use std::path::PathBuf;

use steward_core::HistoryQuery;
use steward_core::series::SeriesValue;
use steward_store::Store;

pub fn temp_store() -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steward.db");
    let store = Store::open(&path).unwrap();
    (dir, path, store)
}

pub fn val(series: &str, value: f64) -> SeriesValue {
    SeriesValue { series: series.into(), value }
}

pub fn q(series: &[&str], from_ms: i64, to_ms: i64, max_points: u32) -> HistoryQuery {
    HistoryQuery { series: series.iter().map(ToString::to_string).collect(), from_ms, to_ms, max_points }
}

/// One sample per second of `series` over `[from, to)`, value = f(ts).
pub fn fill(store: &mut Store, series: &str, from: i64, to: i64, f: impl Fn(i64) -> f64) {
    let rows: Vec<(i64, Vec<SeriesValue>)> =
        (from..to).step_by(1000).map(|ts| (ts, vec![val(series, f(ts))])).collect();
    store.insert_batch(rows.iter().map(|(ts, v)| (*ts, v.as_slice()))).unwrap();
}
