//! What the monitor reads from history: energy per source over a range, hourly joules for
//! cost and carbon, and (utilization, power, joules) buckets per device for efficiency.

use steward_core::HistoryQuery;
use steward_store::{HOUR_MS, Store, StoreError};

/// `energy.<provenance>.<source>.j` series of one node (`prefix` is `""` or `node.<id>.`), as
/// `(full series name, provenance word, source id)`.
pub(super) fn interval_series(store: &Store, prefix: &str) -> Result<Vec<(String, String, String)>, StoreError> {
    let head = format!("{prefix}energy.");
    Ok(store
        .series_names(&head)?
        .into_iter()
        .filter_map(|name| {
            let rest = name.strip_prefix(&head)?.strip_suffix(".j")?;
            let (provenance, source) = rest.split_once('.')?;
            Some((name.clone(), provenance.to_string(), source.to_string()))
        })
        .collect())
}

/// Joules of `series` over `[from, to]`.
pub(super) fn joules(store: &Store, series: &str, from: i64, to: i64) -> Result<f64, StoreError> {
    let q = HistoryQuery { series: vec![series.to_string()], from_ms: from, to_ms: to, max_points: 1 };
    Ok(store.sums(&q)?.into_iter().flat_map(|(_, s)| s).map(|(_, j)| j).sum())
}

/// `(hour of day UTC, joules)` of every series in `names` over `[from, to]`, hour by hour.
pub(super) fn hourly_joules(
    store: &Store,
    names: &[String],
    from: i64,
    to: i64,
) -> Result<Vec<(u32, f64)>, StoreError> {
    let hours = ((to - from) / HOUR_MS + 1).clamp(1, 24 * 8) as u32;
    let q = HistoryQuery { series: names.to_vec(), from_ms: from, to_ms: to, max_points: hours };
    Ok(store
        .sums(&q)?
        .into_iter()
        .flat_map(|(_, s)| s)
        .map(|(ts, j)| ((ts.rem_euclid(24 * HOUR_MS) / HOUR_MS) as u32, j))
        .collect())
}

/// One bucket of a device's history: average utilization and power, and the joules drawn.
pub(super) struct DeviceBucket {
    pub util_pct: f64,
    pub power_w: f64,
    pub joules: Option<f64>,
    pub bucket_ms: i64,
}

/// Buckets over `[from, to]` where both `util` and `power` series have a value.
pub(super) fn device_buckets(
    store: &Store,
    util: &str,
    power: &str,
    joules: &str,
    from: i64,
    to: i64,
    points: u32,
) -> Result<Vec<DeviceBucket>, StoreError> {
    let q = HistoryQuery {
        series: vec![util.to_string(), power.to_string()],
        from_ms: from,
        to_ms: to,
        max_points: points,
    };
    let h = store.query(&q)?;
    let sums = store.sums(&HistoryQuery { series: vec![joules.to_string()], ..q })?;
    let bucket_ms = h.first().map_or(1, |s| s.bucket_ms);
    let j_at = |ts: i64| sums.first().and_then(|(_, s)| s.iter().find(|(t, _)| *t == ts)).map(|(_, j)| *j);
    Ok(h[0]
        .points
        .iter()
        .filter_map(|u| {
            let p = h[1].points.iter().find(|p| p.ts_ms == u.ts_ms)?;
            Some(DeviceBucket { util_pct: u.avg, power_w: p.avg, joules: j_at(u.ts_ms), bucket_ms })
        })
        .collect())
}

/// Watts of every source of every node over `[from, to]` (at most 240 points each), labelled
/// `node / source (provenance)`.
pub(super) fn power_lines(
    store: &Store,
    nodes: &[(String, String)],
    from: i64,
    to: i64,
) -> Result<Vec<super::report::PowerLine>, StoreError> {
    let mut out = Vec::new();
    for (node, prefix) in nodes {
        for (series, provenance, source) in interval_series(store, prefix)? {
            let watts = format!("{}.w", series.strip_suffix(".j").unwrap_or(&series));
            let q = HistoryQuery { series: vec![watts], from_ms: from, to_ms: to, max_points: 240 };
            let points = store.query(&q)?.into_iter().flat_map(|h| h.points).map(|p| (p.ts_ms, p.avg)).collect();
            out.push((format!("{node} / {source} ({provenance})"), points));
        }
    }
    Ok(out)
}
