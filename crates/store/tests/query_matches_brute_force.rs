//! Property: whatever tables answer, each bucket's min/max/avg equals a brute-force computation
//! over the raw samples.

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use steward_store::{HOUR_MS, RetentionPolicy};

const SPAN: i64 = 6 * HOUR_MS;

fn check(samples: &BTreeMap<i64, f64>, maintain_at: Option<i64>, from: i64, to: i64, max_points: u32) {
    let (_dir, _path, mut store) = common::temp_store();
    let values: Vec<(i64, Vec<_>)> = samples.iter().map(|(&ts, &v)| (ts, vec![common::val("x", v)])).collect();
    store.insert_batch(values.iter().map(|(t, v)| (*t, v.as_slice()))).unwrap();
    if let Some(now) = maintain_at {
        store.maintain(now, &RetentionPolicy::default()).unwrap();
    }
    let h = store.query(&common::q(&["x"], from, to, max_points)).unwrap();
    let h = &h[0];
    assert!(h.points.len() <= max_points as usize);

    let res = h.source_resolution_ms;
    let start = from.div_euclid(res) * res;
    let mut expected: BTreeMap<i64, (f64, f64, f64, u32)> = BTreeMap::new();
    // The answer covers whole units of the source resolution on both ends.
    let end = (to + 1 + res - 1).div_euclid(res) * res;
    for (&ts, &v) in samples.range(start..end) {
        let b = start + (ts - start) / h.bucket_ms * h.bucket_ms;
        let e = expected.entry(b).or_insert((f64::INFINITY, f64::NEG_INFINITY, 0.0, 0));
        e.0 = e.0.min(v);
        e.1 = e.1.max(v);
        e.2 += v;
        e.3 += 1;
    }
    assert_eq!(h.points.len(), expected.len(), "bucket count (res {res}, bucket {})", h.bucket_ms);
    for (p, (&ts, &(min, max, sum, n))) in h.points.iter().zip(&expected) {
        assert_eq!(p.ts_ms, ts);
        assert_eq!(p.min, min);
        assert_eq!(p.max, max);
        let avg = sum / f64::from(n);
        assert!((p.avg - avg).abs() <= 1e-9 * avg.abs().max(1.0), "avg {} vs {avg}", p.avg);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn bucketed_query_matches_brute_force(
        samples in prop::collection::btree_map(0..SPAN, -1e3..1e3f64, 1..300),
        maintain_at in prop::option::of(0..SPAN + HOUR_MS),
        a in 0..SPAN,
        b in 0..SPAN,
        max_points in 1u32..400,
    ) {
        check(&samples, maintain_at, a.min(b), a.max(b), max_points);
    }
}

/// Any i64 at either end, extremes included: a well-formed answer (buckets that fit, at most
/// `max_points` of them) or `InvalidQuery`, never an overflow or a database error.
fn any_query_is_answered_or_refused(from: i64, to: i64, max_points: u32) {
    let (_dir, _path, mut store) = common::temp_store();
    store.insert_batch([(1_000, vec![common::val("x", 1.0)].as_slice())]).unwrap();
    match store.query(&common::q(&["x"], from, to, max_points)) {
        Ok(h) => {
            assert!(h[0].bucket_ms >= h[0].source_resolution_ms && h[0].bucket_ms > 0, "{from}..{to}: {h:?}");
            assert!(h[0].points.len() <= max_points as usize);
            let span = i128::from(to) - i128::from(from) + 1;
            assert!(
                i128::from(h[0].bucket_ms) * i128::from(max_points) >= span,
                "{from}..{to}: buckets cover the span"
            );
        }
        Err(steward_store::StoreError::InvalidQuery(_)) => {}
        Err(e) => panic!("{from}..{to} / {max_points}: {e}"),
    }
}

fn extreme_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::MIN + 1),
        Just(i64::MAX - 1),
        Just(0),
        Just(-1),
        Just(steward_core::MAX_TIMESTAMP_MS),
        Just(steward_core::MAX_TIMESTAMP_MS + 1),
        any::<i64>(),
        0..steward_core::MAX_TIMESTAMP_MS,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn history_queries_over_i64_extremes_never_overflow(
        from in extreme_i64(),
        to in extreme_i64(),
        max_points in prop_oneof![Just(0u32), Just(1u32), Just(u32::MAX), 1u32..20_000],
    ) {
        any_query_is_answered_or_refused(from, to, max_points);
    }
}

#[test]
fn the_widest_span_is_refused_in_words_and_the_widest_allowed_one_is_answered() {
    any_query_is_answered_or_refused(i64::MIN, i64::MAX, 100);
    any_query_is_answered_or_refused(0, steward_core::MAX_TIMESTAMP_MS, 1);
    any_query_is_answered_or_refused(0, steward_core::MAX_TIMESTAMP_MS, 10_000);
}
