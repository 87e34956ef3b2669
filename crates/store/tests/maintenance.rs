//! Rollups and retention on known data.

mod common;

use common::{fill, q, temp_store};
use steward_store::{HOUR_MS, MINUTE_MS, RetentionPolicy, Store};

const DAY_MS: i64 = 24 * HOUR_MS;

fn rows(path: &std::path::Path, table: &str) -> Vec<(i64, i64, f64, f64, f64, i64)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(&format!("SELECT series_id, ts_ms, min, max, sum, count FROM {table} ORDER BY series_id, ts_ms"))
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn rollups_are_correct_and_idempotent() {
    let (_dir, path, mut store) = temp_store();
    // 2 h 30 min of data, value = second within the minute (0..59).
    fill(&mut store, "x", 0, 2 * HOUR_MS + 30 * MINUTE_MS, |t| ((t / 1000) % 60) as f64);
    let now = 2 * HOUR_MS + 30 * MINUTE_MS + 10_000;
    let first = store.maintain(now, &RetentionPolicy::default()).unwrap();
    assert_eq!(first.minute_rows_written, 150);
    assert_eq!(first.hour_rows_written, 2, "the third hour is not complete");

    let minutes = rows(&path, "samples_1m");
    assert_eq!(minutes.len(), 150);
    for (i, m) in minutes.iter().enumerate() {
        assert_eq!(*m, (1, i as i64 * MINUTE_MS, 0.0, 59.0, (0..60).sum::<i64>() as f64, 60));
    }
    let hours = rows(&path, "samples_1h");
    assert_eq!(hours, vec![(1, 0, 0.0, 59.0, 60.0 * 1770.0, 3600), (1, HOUR_MS, 0.0, 59.0, 60.0 * 1770.0, 3600),]);

    let again = store.maintain(now, &RetentionPolicy::default()).unwrap();
    assert_eq!((again.minute_rows_written, again.hour_rows_written), (0, 0));
    assert_eq!(rows(&path, "samples_1m"), minutes);
    assert_eq!(rows(&path, "samples_1h"), hours);
}

#[test]
fn watermark_survives_reopen_so_nothing_is_rolled_twice_or_lost() {
    let (_dir, path, mut store) = temp_store();
    fill(&mut store, "x", 0, 10 * MINUTE_MS, |_| 1.0);
    store.maintain(5 * MINUTE_MS, &RetentionPolicy::default()).unwrap();
    drop(store);
    let mut store = Store::open(&path).unwrap();
    let r = store.maintain(10 * MINUTE_MS, &RetentionPolicy::default()).unwrap();
    assert_eq!(r.minute_rows_written, 5);
    let minutes = rows(&path, "samples_1m");
    assert_eq!(minutes.len(), 10);
    assert!(minutes.iter().all(|m| m.5 == 60));
}

#[test]
fn default_policy_keeps_a_week_of_minutes() {
    let p = RetentionPolicy::default();
    assert!(p.minute_ms >= 7 * DAY_MS);
    assert_eq!(p.raw_ms, 48 * HOUR_MS);
    assert_eq!(p.hour_ms, 400 * DAY_MS);
    assert_eq!(p.max_bytes, 2 << 30);
}

#[test]
fn retention_by_age_prunes_each_tier_only_after_rollup() {
    let (_dir, path, mut store) = temp_store();
    let policy =
        RetentionPolicy { raw_ms: HOUR_MS, minute_ms: 2 * HOUR_MS, hour_ms: 3 * HOUR_MS, ..Default::default() };
    fill(&mut store, "x", 0, 5 * HOUR_MS, |_| 2.0);
    let now = 5 * HOUR_MS;
    let r = store.maintain(now, &policy).unwrap();
    assert_eq!(r.raw_deleted, 4 * 3600);
    assert_eq!(r.minute_deleted, 3 * 60);
    assert_eq!(r.hour_deleted, 2);
    let oldest = |table: &str| rows(&path, table).first().map(|r| r.1);
    assert_eq!(oldest("samples_1m"), Some(3 * HOUR_MS));
    assert_eq!(oldest("samples_1h"), Some(2 * HOUR_MS));
    // The whole range still answers: hour rows, then minutes, then raw.
    let h = store.query(&q(&["x"], 0, now, 1)).unwrap();
    let p = h[0].points[0];
    assert_eq!((p.min, p.max, p.avg), (2.0, 2.0, 2.0));
}

#[test]
fn retention_by_size_drops_oldest_raw_first_and_shrinks_the_file() {
    let (_dir, _path, mut store) = temp_store();
    let names: Vec<String> = (0..20).map(|i| format!("s.{i}")).collect();
    let now = 6 * HOUR_MS;
    let rows: Vec<(i64, Vec<steward_core::series::SeriesValue>)> =
        (0..now).step_by(1000).map(|ts| (ts, names.iter().map(|n| common::val(n, ts as f64)).collect())).collect();
    store.insert_batch(rows.iter().map(|(t, v)| (*t, v.as_slice()))).unwrap();
    let unlimited = store.maintain(now, &RetentionPolicy::default()).unwrap();
    let full = unlimited.bytes_after;
    assert!(full > 8 << 20, "fixture too small: {full}");

    let limit = full / 2;
    let r = store.maintain(now, &RetentionPolicy { max_bytes: limit, ..Default::default() }).unwrap();
    assert!(!r.over_limit, "{r:?}");
    assert!(r.raw_deleted > 0 && r.minute_deleted == 0 && r.hour_deleted == 0, "{r:?}");
    assert!(r.bytes_after <= limit, "{r:?}");
    assert!(store.live_bytes().unwrap() <= limit);
    // Oldest raw went first: the last minutes are still at full resolution.
    let recent = store.query(&q(&["s.0"], now - 60_000, now - 1, 60)).unwrap();
    assert_eq!(recent[0].points.len(), 60);
    // Older history is still there as rollups.
    let all = store.query(&q(&["s.0"], 0, now - 1, 6)).unwrap();
    assert_eq!(all[0].points.len(), 6);
    assert_eq!(all[0].points[0].min, 0.0);
}

#[test]
fn interval_series_sum_across_raw_and_rollups() {
    let (_dir, _path, mut store) = temp_store();
    // 2 J every second for 2 h 30 min: 2 h rolled up to hours, the rest minutes and raw.
    fill(&mut store, "energy.measured.gpu.0.j", 0, 2 * HOUR_MS + 30 * MINUTE_MS, |_| 2.0);
    store.maintain(2 * HOUR_MS + 30 * MINUTE_MS, &RetentionPolicy::default()).unwrap();
    let all = store.sums(&q(&["energy.measured.gpu.0.j"], 0, 2 * HOUR_MS + 30 * MINUTE_MS - 1, 1)).unwrap();
    assert_eq!(all[0].1, vec![(0, 2.0 * 9_000.0)]);
    let hourly = store.sums(&q(&["energy.measured.gpu.0.j"], 0, 3 * HOUR_MS - 1, 3)).unwrap();
    assert_eq!(hourly[0].1, vec![(0, 7_200.0), (HOUR_MS, 7_200.0), (2 * HOUR_MS, 3_600.0)]);
    assert!(store.sums(&q(&["nothing"], 0, HOUR_MS, 1)).unwrap()[0].1.is_empty());
}
