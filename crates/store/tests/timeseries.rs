//! Ingest, downsampled queries, and which table answers them.

mod common;

use common::{fill, q, temp_store, val};
use steward_store::{HOUR_MS, MINUTE_MS, RAW_RESOLUTION_MS, RetentionPolicy, StoreError};

#[test]
fn round_trip_at_full_resolution() {
    let (_dir, _path, mut store) = temp_store();
    store.insert(1_000, &[val("cpu.total", 1.5), val("mem.used", 10.0)]).unwrap();
    store.insert(2_000, &[val("cpu.total", 2.5), val("mem.used", f64::NAN)]).unwrap();
    let h = store.query(&q(&["cpu.total", "mem.used"], 0, 2_999, 3000)).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].series, "cpu.total");
    assert_eq!(h[0].source_resolution_ms, RAW_RESOLUTION_MS);
    assert_eq!(h[0].bucket_ms, 1);
    let pts: Vec<(i64, f64, f64, f64)> = h[0].points.iter().map(|p| (p.ts_ms, p.min, p.max, p.avg)).collect();
    assert_eq!(pts, vec![(1_000, 1.5, 1.5, 1.5), (2_000, 2.5, 2.5, 2.5)]);
    assert_eq!(h[1].points.len(), 1, "NaN is skipped, not stored");
}

#[test]
fn same_instant_twice_replaces() {
    let (_dir, _path, mut store) = temp_store();
    store.insert(1_000, &[val("x", 1.0)]).unwrap();
    store.insert(1_000, &[val("x", 3.0)]).unwrap();
    let h = store.query(&q(&["x"], 0, 5_000, 10)).unwrap();
    assert_eq!(h[0].points.len(), 1);
    assert_eq!(h[0].points[0].avg, 3.0);
}

#[test]
fn unknown_series_is_empty_not_an_error() {
    let (_dir, _path, store) = temp_store();
    let h = store.query(&q(&["nope"], 0, 1_000, 10)).unwrap();
    assert_eq!(h.len(), 1);
    assert!(h[0].points.is_empty());
}

#[test]
fn invalid_queries_are_rejected_with_a_message() {
    let (_dir, _path, store) = temp_store();
    for bad in [q(&["x"], 10, 5, 10), q(&["x"], 0, 5, 0), q(&["x"], 0, 5, 10_001)] {
        let err = store.query(&bad).unwrap_err();
        assert!(matches!(err, StoreError::InvalidQuery(_)), "{err:?}");
        assert!(err.to_string().len() > 25, "{err}");
    }
    store.query(&q(&["x"], 5, 5, 10_000)).unwrap();
}

#[test]
fn buckets_are_bounded_and_keep_min_max_avg() {
    let (_dir, _path, mut store) = temp_store();
    // 0..100 s, value = seconds, with one spike at 42 s.
    fill(&mut store, "x", 0, 100_000, |t| if t == 42_000 { 1000.0 } else { (t / 1000) as f64 });
    let h = store.query(&q(&["x"], 0, 99_999, 10)).unwrap();
    let s = &h[0];
    assert_eq!(s.bucket_ms, 10_000);
    assert_eq!(s.points.len(), 10);
    for (i, p) in s.points.iter().enumerate() {
        let first = (i * 10) as f64;
        assert_eq!(p.ts_ms, i as i64 * 10_000);
        assert_eq!(p.min, first);
        if i == 4 {
            assert_eq!(p.max, 1000.0, "spike must survive downsampling");
            assert_eq!(p.avg, (40.0 + 41.0 + 1000.0 + (43..50).sum::<i32>() as f64) / 10.0);
        } else {
            assert_eq!(p.max, first + 9.0);
            assert_eq!(p.avg, first + 4.5);
        }
    }
    // Odd sizes never exceed max_points.
    for max in [1, 3, 7, 33, 99, 101] {
        let h = store.query(&q(&["x"], 123, 99_999, max)).unwrap();
        assert!(h[0].points.len() <= max as usize);
        let n: usize = h[0].points.len();
        assert!(n >= 1);
    }
}

#[test]
fn series_names_by_prefix() {
    let (_dir, _path, mut store) = temp_store();
    store.insert(1, &[val("cpu.core.1", 1.0), val("cpu.total", 1.0), val("mem.used", 1.0)]).unwrap();
    assert_eq!(store.series_names("cpu.").unwrap(), vec!["cpu.core.1", "cpu.total"]);
    assert_eq!(store.series_names("").unwrap().len(), 3);
    assert!(store.series_names("gpu.").unwrap().is_empty());
}

/// 3 hours of 1 Hz data ending at `now`, rolled up as of `now`.
fn three_hours(now: i64) -> (tempfile::TempDir, steward_store::Store) {
    let (dir, _path, mut store) = temp_store();
    fill(&mut store, "x", now - 3 * HOUR_MS, now, |t| ((t / 1000) % 100) as f64);
    store.maintain(now, &RetentionPolicy::default()).unwrap();
    (dir, store)
}

#[test]
fn table_choice_follows_bucket_width() {
    let now = 1_700_000_000_000 / HOUR_MS * HOUR_MS + 30 * MINUTE_MS + 30_000;
    let (_dir, store) = three_hours(now);
    let five_min = store.query(&q(&["x"], now - 5 * MINUTE_MS, now, 300)).unwrap();
    assert_eq!(five_min[0].source_resolution_ms, RAW_RESOLUTION_MS);
    let three_h = store.query(&q(&["x"], now - 3 * HOUR_MS, now, 100)).unwrap();
    assert_eq!(three_h[0].source_resolution_ms, MINUTE_MS);
    assert_eq!(three_h[0].bucket_ms % MINUTE_MS, 0);
    let week = store.query(&q(&["x"], now - 7 * 24 * HOUR_MS, now, 100)).unwrap();
    assert_eq!(week[0].source_resolution_ms, HOUR_MS);
    for h in [&five_min, &three_h, &week] {
        assert!(!h[0].points.is_empty());
    }
}

#[test]
fn coarse_queries_show_the_recent_seconds_from_raw() {
    // now is 30.5 s into a minute: the minute rollup stops at the minute start.
    let now = 1_700_000_000_000 / HOUR_MS * HOUR_MS + 30 * MINUTE_MS + 30_500;
    let (_dir, store) = three_hours(now);
    // Every sample counted exactly once, whichever tables served it.
    let whole = store.query(&q(&["x"], now - 3 * HOUR_MS, now, 1)).unwrap();
    let p = whole[0].points[0];
    let expected: Vec<f64> = (now - 3 * HOUR_MS..now).step_by(1000).map(|t| ((t / 1000) % 100) as f64).collect();
    assert_eq!(p.min, 0.0);
    assert_eq!(p.max, 99.0);
    let avg = expected.iter().sum::<f64>() / expected.len() as f64;
    assert!((p.avg - avg).abs() < 1e-9, "{} vs {avg}", p.avg);

    // A minute-resolution chart still ends with the last seconds.
    let h = store.query(&q(&["x"], now - 3 * HOUR_MS, now, 180)).unwrap();
    assert_eq!(h[0].source_resolution_ms, MINUTE_MS);
    let last = h[0].points.last().unwrap();
    assert!(last.ts_ms > now - MINUTE_MS, "last bucket {} must cover the current minute", last.ts_ms);
    // An hour-resolution chart too: hour rollup, then minute rollup, then raw.
    let h = store.query(&q(&["x"], now - 30 * 24 * HOUR_MS, now, 500)).unwrap();
    assert_eq!(h[0].source_resolution_ms, HOUR_MS);
    let total_hours: usize = h[0].points.len();
    assert!(total_hours >= 3, "{total_hours}");
}

#[test]
fn old_ranges_pruned_from_raw_fall_back_to_rollups() {
    let now = 10 * 24 * HOUR_MS;
    let (_dir, _path, mut store) = temp_store();
    fill(&mut store, "x", now - 3 * 24 * HOUR_MS, now, |_| 5.0);
    store.maintain(now, &RetentionPolicy::default()).unwrap(); // raw kept 48 h
    // A 5-minute window 60 h ago: raw is gone, the minute rollup still answers.
    let from = now - 60 * HOUR_MS;
    let h = store.query(&q(&["x"], from, from + 5 * MINUTE_MS - 1, 300)).unwrap();
    assert_eq!(h[0].points.len(), 5);
    assert!(h[0].points.iter().all(|p| p.min == 5.0 && p.max == 5.0 && p.avg == 5.0));
}
