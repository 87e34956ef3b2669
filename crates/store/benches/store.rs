//! Store benchmarks: ingest throughput and downsampled history queries.
//!
//! Run: `cargo bench -p steward-store -- --warm-up-time 1 --measurement-time 3`
//!
//! Query fixture (built once, in a temp file): 200 series; 7 days of 1-minute rollups for every
//! series (2.0 M rows, written straight into `samples_1m`), then `maintain` rolls them into
//! 1-hour rows; raw 1 Hz samples for the last 2 hours of every series (1.44 M rows) plus the
//! full last 24 hours of series 0 (86 400 rows) so the unaggregated baseline has rows to fetch.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use steward_core::HistoryQuery;
use steward_core::series::SeriesValue;
use steward_store::{HOUR_MS, MINUTE_MS, RetentionPolicy, Store};

const SERIES: usize = 200;
const DAY_MS: i64 = 24 * HOUR_MS;
const NOW: i64 = 1_750_000_000_000 / HOUR_MS * HOUR_MS + 17 * MINUTE_MS + 42_000;

fn series_name(i: usize) -> String {
    format!("node0.metric.{i:03}")
}

fn one_second(ts: i64) -> Vec<SeriesValue> {
    (0..SERIES).map(|i| SeriesValue { series: series_name(i), value: ((ts / 1000) as f64 + i as f64).sin() }).collect()
}

fn ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("ingest");

    // One transaction per second of data (200 samples): what the live sampler does.
    let mut store = Store::open(&dir.path().join("per_second.db")).unwrap();
    let values = one_second(0);
    let mut ts = 0;
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("store_200x1s_per_tx", |b| {
        b.iter(|| {
            ts += 1000;
            store.insert(ts, black_box(&values)).unwrap();
        });
    });

    // One transaction per minute of buffered data (12 000 samples).
    let mut store = Store::open(&dir.path().join("per_minute.db")).unwrap();
    let mut ts = 0;
    g.throughput(Throughput::Elements(60 * SERIES as u64));
    g.bench_function("store_200x60s_per_tx", |b| {
        b.iter(|| {
            let batch: Vec<(i64, &[SeriesValue])> = (0..60).map(|k| (ts + k * 1000, values.as_slice())).collect();
            ts += 60_000;
            store.insert_batch(batch).unwrap();
        });
    });

    // Baseline: same schema and pragmas, one autocommit INSERT per sample, statement parsed
    // every time, id looked up by name in SQL.
    let path = dir.path().join("naive.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;").unwrap();
    for i in 0..SERIES {
        conn.execute("INSERT INTO series (name) VALUES (?1)", [series_name(i)]).unwrap();
    }
    let mut ts = 0;
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("naive_autocommit_200x1s", |b| {
        b.iter(|| {
            ts += 1000;
            for v in &values {
                conn.execute(
                    "INSERT OR REPLACE INTO samples_raw (series_id, ts_ms, value)
                     SELECT id, ?2, ?3 FROM series WHERE name = ?1",
                    (&v.series, ts, v.value),
                )
                .unwrap();
            }
        });
    });
    g.finish();
}

fn build_fixture(path: &Path) -> Store {
    let t0 = std::time::Instant::now();
    drop(Store::open(path).unwrap()); // schema
    {
        let mut conn = rusqlite::Connection::open(path).unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut series = tx.prepare("INSERT INTO series (id, name) VALUES (?1, ?2)").unwrap();
            let mut minute = tx
                .prepare(
                    "INSERT INTO samples_1m (series_id, ts_ms, min, max, sum, count)
                     VALUES (?1, ?2, ?3, ?4, ?5, 60)",
                )
                .unwrap();
            let raw_from = (NOW - 2 * HOUR_MS) / MINUTE_MS * MINUTE_MS;
            let start = (NOW - 7 * DAY_MS) / MINUTE_MS * MINUTE_MS;
            for i in 0..SERIES {
                let id = i as i64 + 1;
                series.execute((id, series_name(i))).unwrap();
                for m in (start..raw_from).step_by(MINUTE_MS as usize) {
                    let base = ((m / MINUTE_MS) as f64 + i as f64).sin();
                    minute.execute((id, m, base - 1.0, base + 1.0, base * 60.0)).unwrap();
                }
            }
            // Raw → 1m resumes where the written rollups stop.
            tx.execute("INSERT INTO rollup_watermark (tier, done_until_ms) VALUES ('1m', ?1)", [raw_from]).unwrap();
        }
        tx.commit().unwrap();
    }
    let mut store = Store::open(path).unwrap();
    let raw_from = (NOW - 2 * HOUR_MS) / MINUTE_MS * MINUTE_MS;
    let seconds: Vec<(i64, Vec<SeriesValue>)> = (raw_from..NOW).step_by(1000).map(|ts| (ts, one_second(ts))).collect();
    store.insert_batch(seconds.iter().map(|(ts, v)| (*ts, v.as_slice()))).unwrap();
    let day: Vec<(i64, Vec<SeriesValue>)> = (NOW - DAY_MS..raw_from)
        .step_by(1000)
        .map(|ts| (ts, vec![SeriesValue { series: series_name(0), value: (ts as f64).sin() }]))
        .collect();
    store.insert_batch(day.iter().map(|(ts, v)| (*ts, v.as_slice()))).unwrap();
    let report = store.maintain(NOW, &RetentionPolicy::default()).unwrap();
    eprintln!(
        "fixture: {:.1} MB, built in {:.1} s, maintain: {report:?}",
        store.file_bytes().unwrap() as f64 / 1e6,
        t0.elapsed().as_secs_f64()
    );
    store
}

fn query(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixture.db");
    let store = build_fixture(&path);
    let mut g = c.benchmark_group("query");

    let day = HistoryQuery { series: vec![series_name(0)], from_ms: NOW - DAY_MS, to_ms: NOW, max_points: 1000 };
    let h = store.query(&day).unwrap();
    eprintln!(
        "24h query: {} points, bucket {} ms, source resolution {} ms",
        h[0].points.len(),
        h[0].bucket_ms,
        h[0].source_resolution_ms
    );
    // Elements = the 1 Hz samples the answer summarises.
    g.throughput(Throughput::Elements((DAY_MS / 1000) as u64));
    g.bench_function("store_24h_1000pts", |b| b.iter(|| store.query(black_box(&day)).unwrap()));

    // Baseline: the raw 24 h of the same series, unaggregated, as a chart without rollups
    // would have to fetch them.
    let conn = rusqlite::Connection::open(&path).unwrap();
    g.bench_function("raw_rows_24h_unaggregated", |b| {
        b.iter(|| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT ts_ms, value FROM samples_raw
                     WHERE series_id = 1 AND ts_ms >= ?1 AND ts_ms <= ?2 ORDER BY ts_ms",
                )
                .unwrap();
            let rows: Vec<(i64, f64)> = stmt
                .query_map((day.from_ms, day.to_ms), |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(rows.len() >= 86_000);
            rows
        });
    });

    let week = HistoryQuery { from_ms: NOW - 7 * DAY_MS, ..day.clone() };
    g.throughput(Throughput::Elements((7 * DAY_MS / 1000) as u64));
    g.bench_function("store_7d_1000pts", |b| b.iter(|| store.query(black_box(&week)).unwrap()));
    let five_min = HistoryQuery { from_ms: NOW - 5 * MINUTE_MS, max_points: 300, ..day.clone() };
    g.throughput(Throughput::Elements(300));
    g.bench_function("store_5min_300pts", |b| b.iter(|| store.query(black_box(&five_min)).unwrap()));
    g.finish();
}

criterion_group!(benches, ingest, query);
criterion_main!(benches);
