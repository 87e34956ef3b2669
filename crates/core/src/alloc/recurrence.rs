//! Occurrences of a possibly repeating window. Repeats keep their wall-clock times in their own
//! time zone, so a daily 09:00–12:00 window stays 09:00–12:00 local across DST changes.
//!
//! One occurrence can be moved, resized or cancelled on its own (an exception keyed by the start
//! the series gives it); it is then expanded in place of that occurrence.
//!
//! Zones come from the IANA database compiled into this binary (jiff's bundled tzdb), never from
//! the machine, so results do not depend on where the code runs.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::DateTime;
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{Timestamp, ToSpan};

use super::request::Frequency;

/// Looks up an IANA zone name in the bundled database.
pub fn zone(name: &str) -> Option<TimeZone> {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled).get(name).ok()
}

/// Never expand more than this many occurrences in one query (a decade of daily windows).
const MAX_OCCURRENCES: usize = 4_000;

/// A window, repeating or not.
#[derive(Debug, Clone)]
pub struct Series {
    pub start_ms: i64,
    pub end_ms: i64,
    pub repeat: Option<Repeat>,
    /// A repeat's changed occurrences: the start the series gives one → its own window, or
    /// `None` when cancelled.
    pub exceptions: BTreeMap<i64, Option<(i64, i64)>>,
}

/// One expanded occurrence: `original` is the start the series gives it (equal to `start`
/// unless it was moved on its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub original: i64,
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone)]
pub struct Repeat {
    pub freq: Frequency,
    pub until_ms: Option<i64>,
    pub tz: TimeZone,
    local_start: DateTime,
    local_end: DateTime,
}

impl Repeat {
    pub fn new(freq: Frequency, until_ms: Option<i64>, tz: TimeZone, start_ms: i64, end_ms: i64) -> Repeat {
        let local =
            |ms: i64| Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(tz.clone()).datetime();
        Repeat { freq, until_ms, local_start: local(start_ms), local_end: local(end_ms), tz }
    }

    fn days(&self) -> i64 {
        match self.freq {
            Frequency::Daily => 1,
            Frequency::Weekly => 7,
        }
    }

    /// Occurrence `k` (0 = the first) in UTC ms.
    fn nth(&self, k: i64) -> Option<(i64, i64)> {
        let at = |local: DateTime| -> Option<i64> {
            let shifted = local.checked_add((k * self.days()).days()).ok()?;
            Some(shifted.to_zoned(self.tz.clone()).ok()?.timestamp().as_millisecond())
        };
        Some((at(self.local_start)?, at(self.local_end)?))
    }
}

impl Series {
    pub fn once(start_ms: i64, end_ms: i64) -> Series {
        Series { start_ms, end_ms, repeat: None, exceptions: BTreeMap::new() }
    }

    /// Occurrences `(start, end)` that overlap `[from, to)`, in time order.
    pub fn overlapping(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        self.occurrences(from, to).into_iter().map(|o| (o.start, o.end)).collect()
    }

    /// Occurrences that overlap `[from, to)`, exceptions applied, in time order.
    pub fn occurrences(&self, from: i64, to: i64) -> Vec<Occurrence> {
        let Some(r) = &self.repeat else {
            let once = Occurrence { original: self.start_ms, start: self.start_ms, end: self.end_ms };
            return if self.start_ms < to && self.end_ms > from { vec![once] } else { vec![] };
        };
        let period = r.days() * 86_400_000;
        // One period of slack on each side covers any DST shift.
        let mut k = ((from - self.end_ms) / period - 1).max(0);
        let mut out = Vec::new();
        while out.len() < MAX_OCCURRENCES {
            let Some((s, e)) = r.nth(k) else { break };
            if s >= to || r.until_ms.is_some_and(|u| s > u) {
                break;
            }
            if e > from && !self.exceptions.contains_key(&s) {
                out.push(Occurrence { original: s, start: s, end: e });
            }
            k += 1;
        }
        // Moved occurrences count where they are now, wherever the series would have put them.
        for (&original, w) in &self.exceptions {
            let Some((s, e)) = *w else { continue };
            if s < to && e > from && r.until_ms.is_none_or(|u| original <= u) {
                out.push(Occurrence { original, start: s, end: e });
            }
        }
        if !self.exceptions.is_empty() {
            out.sort_by_key(|o| (o.start, o.original));
            out.truncate(MAX_OCCURRENCES);
        }
        out
    }

    /// The window the series itself gives the occurrence starting at `original` (exceptions
    /// ignored), or `None` when no occurrence starts there.
    pub fn original_window(&self, original: i64) -> Option<(i64, i64)> {
        let r = self.repeat.as_ref()?;
        self.original_index(original).and_then(|k| r.nth(k)).filter(|_| r.until_ms.is_none_or(|u| original <= u))
    }

    /// Which occurrence (0 = the first) the series starts at `original`.
    pub fn original_index(&self, original: i64) -> Option<i64> {
        let r = self.repeat.as_ref()?;
        let k = (original - self.start_ms).div_euclid(r.days() * 86_400_000);
        // A DST shift can put the start on either side of a whole number of periods.
        (k - 1..=k + 1).filter(|&k| k >= 0).find(|&k| r.nth(k).is_some_and(|(s, _)| s == original))
    }

    /// The start the series gives occurrence `k`.
    pub fn nth_start(&self, k: i64) -> Option<i64> {
        self.repeat.as_ref()?.nth(k).map(|o| o.0)
    }

    /// The earliest start, a moved occurrence's included.
    fn first_start(&self) -> i64 {
        self.exceptions.values().flatten().map(|w| w.0).fold(self.start_ms, i64::min)
    }

    /// The first occurrence that has not ended by `now`, however far ahead the series starts
    /// (no look-ahead window: the series is walked from the occurrence `now` falls near).
    pub fn next(&self, now: i64) -> Option<(i64, i64)> {
        let Some(r) = &self.repeat else {
            return (self.end_ms > now).then_some((self.start_ms, self.end_ms));
        };
        let period = r.days() * 86_400_000;
        let mut k = ((now - self.end_ms) / period - 1).max(0);
        // Cancelled or moved occurrences are skipped; there are finitely many of them.
        let from_series = loop {
            let Some((s, e)) = r.nth(k) else { break None };
            if r.until_ms.is_some_and(|u| s > u) {
                break None;
            }
            if e > now && !self.exceptions.contains_key(&s) {
                break Some((s, e));
            }
            k += 1;
        };
        let moved = self
            .exceptions
            .iter()
            .filter(|&(&original, _)| r.until_ms.is_none_or(|u| original <= u))
            .filter_map(|(_, w)| w.filter(|&(_, e)| e > now))
            .min();
        from_series.into_iter().chain(moved).min()
    }

    /// The occurrence containing `t`, if any.
    pub fn active_at(&self, t: i64) -> Option<(i64, i64)> {
        self.overlapping(t, t + 1).into_iter().next()
    }

    /// The first occurrence of `other` that overlaps an occurrence of `self`. Two endless
    /// repeats are compared over the next `horizon_ms` after the later start.
    pub fn overlaps(&self, other: &Series, horizon_ms: i64) -> Option<(i64, i64)> {
        let later = self.first_start().max(other.first_start());
        let from = later - 7 * 86_400_000;
        let to = self.last_end().min(other.last_end()).min(later.saturating_add(horizon_ms));
        let theirs = other.overlapping(from, to);
        for (s, e) in self.overlapping(from, to) {
            if let Some(&hit) = theirs.iter().find(|&&(s2, e2)| s < e2 && s2 < e) {
                return Some(hit);
            }
        }
        None
    }

    /// End of the last occurrence (`i64::MAX` for an endless repeat).
    pub fn last_end(&self) -> i64 {
        match &self.repeat {
            None => self.end_ms,
            Some(r) => match r.until_ms {
                None => i64::MAX,
                Some(u) => {
                    let series = u + (self.end_ms - self.start_ms) + 2 * 3_600_000;
                    self.exceptions.values().flatten().map(|w| w.1).fold(series, i64::max)
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::time::{format_rfc3339, parse_rfc3339};

    #[test]
    fn daily_window_keeps_its_local_time_across_dst() {
        let tz = zone("Europe/Berlin").unwrap();
        // 09:00–12:00 Berlin on Fri 2025-03-28 (CET, UTC+1); DST starts Sun 2025-03-30.
        let s = parse_rfc3339("2025-03-28T09:00:00+01:00").unwrap();
        let e = parse_rfc3339("2025-03-28T12:00:00+01:00").unwrap();
        let series = Series {
            start_ms: s,
            end_ms: e,
            repeat: Some(Repeat::new(Frequency::Daily, None, tz, s, e)),
            exceptions: BTreeMap::new(),
        };
        let occ = series.overlapping(s, s + 3 * 86_400_000 + 1);
        let starts: Vec<String> = occ.iter().map(|o| format_rfc3339(o.0)).collect();
        assert_eq!(
            starts,
            ["2025-03-28T08:00:00Z", "2025-03-29T08:00:00Z", "2025-03-30T07:00:00Z", "2025-03-31T07:00:00Z"]
        );
        assert!(occ.iter().all(|(s, e)| e - s == 3 * 3_600_000));
    }

    #[test]
    fn until_bounds_the_series_and_overlap_finds_the_clash() {
        let tz = zone("UTC").unwrap();
        let s = parse_rfc3339("2025-01-06T09:00:00Z").unwrap();
        let e = s + 3_600_000;
        let until = s + 2 * 7 * 86_400_000;
        let weekly = Series {
            start_ms: s,
            end_ms: e,
            repeat: Some(Repeat::new(Frequency::Weekly, Some(until), tz, s, e)),
            exceptions: BTreeMap::new(),
        };
        assert_eq!(weekly.overlapping(s, s + 100 * 86_400_000).len(), 3);
        let later = Series::once(s + 14 * 86_400_000 + 1_800_000, s + 14 * 86_400_000 + 7_200_000);
        assert!(weekly.overlaps(&later, 400 * 86_400_000).is_some());
        let after = Series::once(s + 21 * 86_400_000, s + 21 * 86_400_000 + 3_600_000);
        assert!(weekly.overlaps(&after, 400 * 86_400_000).is_none());
        assert!(zone("Mars/Olympus").is_none());
    }

    #[test]
    fn a_moved_occurrence_replaces_its_original_and_a_cancelled_one_is_gone() {
        let tz = zone("Europe/Berlin").unwrap();
        let s = parse_rfc3339("2025-03-28T09:00:00+01:00").unwrap();
        let e = parse_rfc3339("2025-03-28T12:00:00+01:00").unwrap();
        let mut series = Series {
            start_ms: s,
            end_ms: e,
            repeat: Some(Repeat::new(Frequency::Daily, None, tz, s, e)),
            exceptions: BTreeMap::new(),
        };
        // Sunday's 09:00 is already summer time (07:00Z); it is moved to 14:00–15:00 local.
        let sunday = series.nth_start(2).unwrap();
        assert_eq!(format_rfc3339(sunday), "2025-03-30T07:00:00Z");
        assert_eq!(series.original_index(sunday), Some(2));
        assert_eq!(series.original_index(sunday + 3_600_000), None);
        let moved =
            (parse_rfc3339("2025-03-30T14:00:00+02:00").unwrap(), parse_rfc3339("2025-03-30T15:00:00+02:00").unwrap());
        series.exceptions.insert(sunday, Some(moved));
        series.exceptions.insert(series.nth_start(3).unwrap(), None);
        let occ = series.occurrences(s, s + 4 * 86_400_000 + 1);
        let got: Vec<(String, String)> =
            occ.iter().map(|o| (format_rfc3339(o.original), format_rfc3339(o.start))).collect();
        let want = [
            ("2025-03-28T08:00:00Z", "2025-03-28T08:00:00Z"),
            ("2025-03-29T08:00:00Z", "2025-03-29T08:00:00Z"),
            ("2025-03-30T07:00:00Z", "2025-03-30T12:00:00Z"),
            ("2025-04-01T07:00:00Z", "2025-04-01T07:00:00Z"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
        assert_eq!(series.active_at(sunday), None, "the original window is free");
        assert_eq!(series.active_at(moved.0), Some(moved));
        // Asked for a range holding only the moved window, its original start outside it.
        assert_eq!(series.overlapping(moved.0, moved.1), [moved]);
    }
}
