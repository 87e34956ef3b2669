//! "Lower sampling where nobody looks": suggestions about the sampler's own cost, from how long
//! the UI kept it at full rate and from series that history keeps although they never change.

use super::advisor::{Suggestion, SuggestionKind};
use super::finding::Evidence;

/// A UI kept in the foreground this long is probably a forgotten window, not a person watching.
pub const LONG_ACTIVE_MS: i64 = 4 * 3_600_000;
/// Constant series are worth a suggestion once they are this many.
pub const MIN_CONSTANT_SERIES: usize = 5;
/// Names shown in a suggestion's title; the rest are counted.
const NAMES_SHOWN: usize = 4;

/// What the api knows about sampling, passed in (time included).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingUsage {
    pub now_ms: i64,
    /// Since when the sampler has been at full rate (a visible UI connected); `None` when not.
    pub active_since_ms: Option<i64>,
    pub active_interval_ms: i64,
    pub hidden_interval_ms: i64,
    /// Values written to history per sample.
    pub series_per_sample: usize,
    /// Series in history over `window_ms`, and those whose minimum equalled their maximum.
    pub series_seen: usize,
    pub constant_series: Vec<String>,
    pub window_ms: i64,
}

pub fn advise_sampling(u: &SamplingUsage) -> Vec<Suggestion> {
    let mut out = Vec::new();
    if let Some(since) = u.active_since_ms.filter(|s| u.now_ms - s >= LONG_ACTIVE_MS) {
        let hours = (u.now_ms - since) as f64 / 3_600_000.0;
        let per_hour = |interval_ms: i64| 3_600_000 / interval_ms.max(1) * u.series_per_sample as i64;
        let saved = per_hour(u.active_interval_ms) - per_hour(u.hidden_interval_ms);
        out.push(Suggestion {
            kind: SuggestionKind::LowerSampling,
            title: format!(
                "A Steward window has kept sampling at full rate ({} s) for {hours:.1} h: minimize or hide it when nobody watches",
                u.active_interval_ms as f64 / 1000.0
            ),
            estimated_effect: format!(
                "hidden, cheap signals are sampled every {} s: about {saved} fewer values written per hour ({:.0} % fewer); history stays at ≤ 10 s resolution",
                u.hidden_interval_ms as f64 / 1000.0,
                100.0 * (1.0 - u.active_interval_ms as f64 / u.hidden_interval_ms.max(1) as f64)
            ),
            evidence: vec![Evidence {
                metric: "sampling at full rate without a break".into(),
                value: hours,
                threshold: LONG_ACTIVE_MS as f64 / 3_600_000.0,
                unit: "h".into(),
                from_ms: since,
                to_ms: u.now_ms,
                samples: ((u.now_ms - since) / u.active_interval_ms.max(1)) as u32,
            }],
            source: "sampling".into(),
        });
    }
    let n = u.constant_series.len();
    if n >= MIN_CONSTANT_SERIES && u.series_seen > 0 {
        let mut names: Vec<&str> = u.constant_series.iter().take(NAMES_SHOWN).map(String::as_str).collect();
        let more = n.saturating_sub(NAMES_SHOWN);
        if more > 0 {
            names.push("…");
        }
        let hours = u.window_ms as f64 / 3_600_000.0;
        out.push(Suggestion {
            kind: SuggestionKind::LowerSampling,
            title: format!(
                "{n} of {} history series did not change in {hours:.0} h ({}): record them less often or leave them out of history",
                u.series_seen,
                names.join(", ")
            ),
            estimated_effect: format!("about {:.0} % fewer values written and stored", 100.0 * n as f64 / u.series_seen as f64),
            evidence: vec![Evidence {
                metric: "series with min = max".into(),
                value: n as f64,
                threshold: MIN_CONSTANT_SERIES as f64,
                unit: "series".into(),
                from_ms: u.now_ms - u.window_ms,
                to_ms: u.now_ms,
                samples: u.series_seen as u32,
            }],
            source: "history".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage() -> SamplingUsage {
        SamplingUsage {
            now_ms: 10 * 3_600_000,
            active_since_ms: None,
            active_interval_ms: 1_000,
            hidden_interval_ms: 5_000,
            series_per_sample: 100,
            series_seen: 100,
            constant_series: vec![],
            window_ms: 24 * 3_600_000,
        }
    }

    #[test]
    fn a_window_left_open_for_hours_gets_a_suggestion_with_its_effect() {
        let u = SamplingUsage { active_since_ms: Some(3_600_000), ..usage() };
        let s = advise_sampling(&u);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, SuggestionKind::LowerSampling);
        assert!(s[0].title.contains("9.0 h"), "{}", s[0].title);
        // 360 000 − 72 000 values an hour.
        assert!(
            s[0].estimated_effect.contains("288000 fewer") && s[0].estimated_effect.contains("80 %"),
            "{}",
            s[0].estimated_effect
        );
        assert_eq!(s[0].evidence[0].value, 9.0);
    }

    #[test]
    fn constant_series_are_named_and_counted() {
        let constant: Vec<String> = (0..6).map(|i| format!("disk.loop{i}.read_bps")).collect();
        let s = advise_sampling(&SamplingUsage { constant_series: constant, ..usage() });
        assert_eq!(s.len(), 1);
        assert!(
            s[0].title.starts_with("6 of 100 history series did not change in 24 h (disk.loop0.read_bps"),
            "{}",
            s[0].title
        );
        assert!(s[0].title.contains("…"));
        assert!(s[0].estimated_effect.contains("6 % fewer"));
    }

    #[test]
    fn no_evidence_no_suggestion() {
        assert!(advise_sampling(&usage()).is_empty());
        // A short active stretch and a few constant series are normal.
        let u = SamplingUsage { active_since_ms: Some(9 * 3_600_000), constant_series: vec!["a".into(); 4], ..usage() };
        assert!(advise_sampling(&u).is_empty());
    }
}
