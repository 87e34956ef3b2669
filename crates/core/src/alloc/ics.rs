//! Reservations as an iCalendar (RFC 5545) file for any calendar application.

use std::collections::BTreeMap;

use super::record::Reservation;
use super::request::Frequency;
use super::time::format_rfc3339;

/// `20250102T090000Z` from ms.
fn utc_basic(ms: i64) -> String {
    format_rfc3339(ms).replace(['-', ':'], "").split('.').next().unwrap_or_default().trim_end_matches('Z').to_string()
        + "Z"
}

fn local_basic(ms: i64, tz: &str) -> Option<String> {
    let t = jiff::Timestamp::from_millisecond(ms).ok()?.to_zoned(super::recurrence::zone(tz)?);
    Some(t.datetime().strftime("%Y%m%dT%H%M%S").to_string())
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace('\n', "\\n")
}

/// Folds a content line at 75 octets (continuation lines start with a space).
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for ch in line.chars() {
        if width + ch.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += ch.len_utf8();
    }
    out.push_str("\r\n");
}

/// An endless repeat's zone is described this far past the later of its start and `now`.
const ENDLESS_SPAN_MS: i64 = 10 * 366 * 86_400_000;

/// The zone a repeating reservation is anchored in, when it is a known one.
fn zone_of(r: &Reservation) -> Option<&str> {
    r.recurrence.as_ref().map(|rec| rec.tz.as_str()).filter(|tz| super::recurrence::zone(tz).is_some())
}

/// Per zone used: the span `[from, to]` its events cover.
fn zone_spans(reservations: &[Reservation], now: i64) -> BTreeMap<&str, (i64, i64)> {
    let mut spans: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for r in reservations {
        let (Some(tz), Some(rec)) = (zone_of(r), &r.recurrence) else { continue };
        let moved = r.exceptions.iter().map(|x| (x.start_time.min(x.occurrence), x.end_time));
        let from = moved.clone().map(|m| m.0).fold(r.start_time, i64::min);
        let until = rec.until.as_deref().and_then(|u| super::time::parse_rfc3339(u).ok());
        let last = match until {
            Some(u) => u + (r.end_time - r.start_time),
            None => from.max(now).saturating_add(ENDLESS_SPAN_MS),
        };
        let to = moved.map(|m| m.1).fold(last, i64::max);
        let span = spans.entry(tz).or_insert((from, to));
        *span = (span.0.min(from), span.1.max(to));
    }
    spans
}

/// `+0100`, `-0430`, `+103000` (seconds only when there are some).
fn utc_offset(o: jiff::tz::Offset) -> String {
    let s = o.seconds();
    let (sign, a) = if s < 0 { ('-', -s) } else { ('+', s) };
    let hm = format!("{sign}{:02}{:02}", a / 3600, a / 60 % 60);
    if a % 60 == 0 { hm } else { format!("{hm}{:02}", a % 60) }
}

/// The VTIMEZONE that RFC 5545 requires for every TZID used: the observance in effect at `from`
/// and every transition up to `to`, from the bundled tzdb (a zone that never changes gets one
/// observance).
fn vtimezone(name: &str, (from, to): (i64, i64), line: &mut impl FnMut(String)) {
    let Some(tz) = super::recurrence::zone(name) else { return };
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    line("BEGIN:VTIMEZONE".into());
    line(format!("TZID:{name}"));
    let mut observances: Vec<(jiff::Timestamp, jiff::tz::Offset, jiff::tz::Offset, bool, String)> = Vec::new();
    let first = tz.preceding(at(from) + jiff::SignedDuration::from_nanos(1)).next();
    for t in first.into_iter().chain(tz.following(at(from)).take_while(|t| t.timestamp() <= at(to))) {
        let before = tz.to_offset(t.timestamp() - jiff::SignedDuration::from_nanos(1));
        observances.push((t.timestamp(), before, t.offset(), t.dst().is_dst(), t.abbreviation().to_string()));
    }
    if observances.is_empty() {
        let info = tz.to_offset_info(at(from));
        let o = info.offset();
        observances.push((jiff::Timestamp::UNIX_EPOCH, o, o, info.dst().is_dst(), info.abbreviation().to_string()));
    }
    for (when, offset_from, offset_to, dst, abbreviation) in observances {
        let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
        line(format!("BEGIN:{kind}"));
        // Local time as it reads just before the change.
        line(format!("DTSTART:{}", offset_from.to_datetime(when).strftime("%Y%m%dT%H%M%S")));
        line(format!("TZOFFSETFROM:{}", utc_offset(offset_from)));
        line(format!("TZOFFSETTO:{}", utc_offset(offset_to)));
        line(format!("TZNAME:{}", escape(&abbreviation)));
        line(format!("END:{kind}"));
    }
    line("END:VTIMEZONE".into());
}

/// The calendar of `reservations` (series, not expanded: repeats become RRULEs, a cancelled
/// occurrence an EXDATE, a moved one an override with its RECURRENCE-ID), stamped `now`, with a
/// VTIMEZONE for every zone a repeat is anchored in.
pub fn to_ics(reservations: &[Reservation], now: i64) -> String {
    let mut out = String::new();
    let mut line = |l: String| fold(&l, &mut out);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Steward//Reservations//EN".into());
    for (name, span) in zone_spans(reservations, now) {
        vtimezone(name, span, &mut line);
    }
    for r in reservations {
        let uid = format!("UID:{}@steward", escape(&r.id));
        let what = if r.gpus.is_empty() { r.node.clone() } else { r.gpus.join(", ") };
        let summary = format!("SUMMARY:{}", escape(&format!("{} ({what})", r.name)));
        let description = format!(
            "DESCRIPTION:{}",
            escape(&format!(
                "owner {}; node {}; {} cores; {} MiB memory",
                r.owner,
                r.node,
                r.cores,
                r.memory_bytes >> 20
            ))
        );
        // A repeat is anchored in its zone so it keeps its wall-clock time across DST.
        let tz = zone_of(r);
        let at = |prop: &str, ms: i64| match tz.and_then(|tz| Some((tz, local_basic(ms, tz)?))) {
            Some((tz, local)) => format!("{prop};TZID={tz}:{local}"),
            None => format!("{prop}:{}", utc_basic(ms)),
        };
        line("BEGIN:VEVENT".into());
        line(uid.clone());
        line(format!("DTSTAMP:{}", utc_basic(now)));
        line(at("DTSTART", r.start_time));
        line(at("DTEND", r.end_time));
        if let Some(rec) = &r.recurrence {
            let freq = match rec.freq {
                Frequency::Daily => "DAILY",
                Frequency::Weekly => "WEEKLY",
            };
            let until = rec
                .until
                .as_deref()
                .and_then(|u| super::time::parse_rfc3339(u).ok())
                .map(|u| format!(";UNTIL={}", utc_basic(u)));
            line(format!("RRULE:FREQ={freq}{}", until.unwrap_or_default()));
            for x in r.exceptions.iter().filter(|x| x.cancelled) {
                line(at("EXDATE", x.occurrence));
            }
        }
        line(summary.clone());
        line(description.clone());
        line("END:VEVENT".into());
        if r.recurrence.is_none() {
            continue;
        }
        for x in r.exceptions.iter().filter(|x| !x.cancelled) {
            line("BEGIN:VEVENT".into());
            line(uid.clone());
            line(format!("DTSTAMP:{}", utc_basic(now)));
            line(at("RECURRENCE-ID", x.occurrence));
            line(at("DTSTART", x.start_time));
            line(at("DTEND", x.end_time));
            line(summary.clone());
            line(description.clone());
            line("END:VEVENT".into());
        }
    }
    line("END:VCALENDAR".into());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_events_with_crlf_and_escapes() {
        let r = Reservation {
            id: "r1".into(),
            name: "train, big".into(),
            owner: "ann".into(),
            node: "vm".into(),
            gpus: vec!["vm/gpu0".into()],
            cores: 4,
            memory_bytes: 1 << 30,
            start_time: 1_735_808_400_000,
            end_time: 1_735_819_200_000,
            flags: Default::default(),
            recurrence: None,
            occurrence_of: None,
            occurrence: None,
            exceptions: Vec::new(),
        };
        let ics = to_ics(&[r], 0);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.contains("DTSTART:20250102T090000Z\r\n"), "{ics}");
        assert!(ics.contains("SUMMARY:train\\, big (vm/gpu0)"));
        assert!(ics.lines().all(|l| l.len() <= 76));
    }

    #[test]
    fn a_repeat_exports_its_cancelled_occurrence_as_exdate_and_its_moved_one_as_an_override() {
        use crate::alloc::record::OccurrenceException;
        use crate::alloc::request::Recurrence;
        use crate::alloc::time::parse_rfc3339;
        let t = |s: &str| parse_rfc3339(s).unwrap();
        let r = Reservation {
            id: "daily".into(),
            name: "standup".into(),
            owner: "ann".into(),
            node: "vm".into(),
            gpus: vec!["vm/gpu0".into()],
            cores: 0,
            memory_bytes: 0,
            start_time: t("2025-03-28T09:00:00+01:00"),
            end_time: t("2025-03-28T12:00:00+01:00"),
            flags: Default::default(),
            recurrence: Some(Recurrence { freq: Frequency::Daily, until: None, tz: "Europe/Berlin".into() }),
            occurrence_of: None,
            occurrence: None,
            exceptions: vec![
                // Sunday's 09:00 falls after the DST change: 07:00Z, still 09:00 local.
                OccurrenceException {
                    occurrence: t("2025-03-30T09:00:00+02:00"),
                    start_time: t("2025-03-30T14:00:00+02:00"),
                    end_time: t("2025-03-30T15:00:00+02:00"),
                    cancelled: false,
                },
                OccurrenceException {
                    occurrence: t("2025-03-31T09:00:00+02:00"),
                    start_time: t("2025-03-31T09:00:00+02:00"),
                    end_time: t("2025-03-31T12:00:00+02:00"),
                    cancelled: true,
                },
            ],
        };
        let ics = to_ics(&[r], 0);
        let events: Vec<&str> = ics.split("BEGIN:VEVENT\r\n").skip(1).collect();
        assert_eq!(events.len(), 2, "{ics}");
        let (master, moved) = (events[0], events[1]);
        assert!(master.contains("DTSTART;TZID=Europe/Berlin:20250328T090000\r\n"), "{ics}");
        assert!(master.contains("RRULE:FREQ=DAILY\r\n"));
        assert!(master.contains("EXDATE;TZID=Europe/Berlin:20250331T090000\r\n"), "{ics}");
        assert!(!master.contains("20250330"), "the moved occurrence is no EXDATE: {ics}");
        assert!(moved.contains("UID:daily@steward\r\n"));
        assert!(moved.contains("RECURRENCE-ID;TZID=Europe/Berlin:20250330T090000\r\n"), "{ics}");
        assert!(moved.contains("DTSTART;TZID=Europe/Berlin:20250330T140000\r\n"));
        assert!(moved.contains("DTEND;TZID=Europe/Berlin:20250330T150000\r\n"));
        assert!(moved.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
    }

    /// Per VTIMEZONE: (instant of the change, offset in seconds after it), from the file alone.
    type Changes = Vec<(i64, i64)>;

    fn seconds(offset: &str) -> i64 {
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let d: Vec<i64> =
            offset.as_bytes()[1..].chunks(2).map(|c| std::str::from_utf8(c).unwrap().parse().unwrap()).collect();
        sign * (d[0] * 3600 + d[1] * 60 + d.get(2).copied().unwrap_or(0))
    }

    fn local_ms(basic: &str) -> i64 {
        let dt: jiff::civil::DateTime =
            jiff::fmt::strtime::parse("%Y%m%dT%H%M%S", basic).unwrap().to_datetime().unwrap();
        dt.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp().as_millisecond()
    }

    fn prop<'a>(props: &'a [ical::property::Property], name: &str) -> Option<&'a ical::property::Property> {
        props.iter().find(|p| p.name == name)
    }

    /// The UTC instant a local time with `TZID` means under the file's own VTIMEZONE.
    fn resolve(changes: &Changes, local: i64) -> i64 {
        let offset_at = |utc: i64| changes.iter().rev().find(|c| c.0 <= utc).map_or(changes[0].1, |c| c.1);
        changes
            .iter()
            .map(|c| local - c.1 * 1000)
            .find(|&utc| offset_at(utc) * 1000 == local - utc)
            .expect("a local time the zone defines")
    }

    #[test]
    fn every_tzid_has_a_vtimezone_that_places_each_occurrence_where_the_engine_does() {
        use crate::alloc::recurrence::{Repeat, Series, zone};
        use crate::alloc::request::Recurrence;
        use crate::alloc::time::{format_rfc3339, parse_rfc3339};
        let t = |s: &str| parse_rfc3339(s).unwrap();
        let now = t("2026-12-07T10:00:00Z");
        let series = |id: &str, start: &str, end: &str, freq: Frequency, until: Option<&str>, tz: &str| Reservation {
            id: id.into(),
            name: id.into(),
            owner: "ann".into(),
            node: "vm".into(),
            gpus: vec!["vm/gpu0".into()],
            cores: 0,
            memory_bytes: 0,
            start_time: t(start),
            end_time: t(end),
            flags: Default::default(),
            recurrence: Some(Recurrence { freq, until: until.map(Into::into), tz: tz.into() }),
            occurrence_of: None,
            occurrence: None,
            exceptions: Vec::new(),
        };
        let all = [
            // Across Berlin's change to summer time on 2027-03-28.
            series(
                "berlin",
                "2027-03-25T09:00:00+01:00",
                "2027-03-25T12:00:00+01:00",
                Frequency::Daily,
                Some("2027-04-01T09:00:00+02:00"),
                "Europe/Berlin",
            ),
            // Lord Howe shifts by half an hour; an endless weekly series.
            series(
                "howe",
                "2026-12-10T09:00:00+11:00",
                "2026-12-10T10:00:00+11:00",
                Frequency::Weekly,
                None,
                "Australia/Lord_Howe",
            ),
            series(
                "york",
                "2027-03-01T08:30:00-05:00",
                "2027-03-01T09:00:00-05:00",
                Frequency::Weekly,
                Some("2027-12-01T00:00:00Z"),
                "America/New_York",
            ),
        ];
        let ics = to_ics(&all, now);
        let mut parser = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
        let cal = parser.next().expect("one calendar").expect("parses");
        assert!(parser.next().is_none());
        let zones: BTreeMap<String, Changes> = cal
            .timezones
            .iter()
            .map(|z| {
                let id = prop(&z.properties, "TZID").and_then(|p| p.value.clone()).unwrap();
                let changes = z
                    .transitions
                    .iter()
                    .map(|o| {
                        let v = |n: &str| prop(&o.properties, n).and_then(|p| p.value.clone()).unwrap();
                        let from = seconds(&v("TZOFFSETFROM"));
                        (local_ms(&v("DTSTART")) - from * 1000, seconds(&v("TZOFFSETTO")))
                    })
                    .collect();
                (id, changes)
            })
            .collect();
        let ids: Vec<&str> = zones.keys().map(String::as_str).collect();
        assert_eq!(ids, ["America/New_York", "Australia/Lord_Howe", "Europe/Berlin"], "{ics}");
        assert!(
            ics.contains("BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"),
            "{ics}"
        );
        assert!(ics.contains("TZOFFSETFROM:+1100\r\nTZOFFSETTO:+1030\r\n"), "{ics}");
        for (event, r) in cal.events.iter().zip(&all) {
            let start = prop(&event.properties, "DTSTART").unwrap();
            let tzid =
                start.params.as_ref().and_then(|p| p.iter().find(|(k, _)| k == "TZID")).map(|(_, v)| v[0].clone());
            let tzid = tzid.expect("a repeat is anchored in its zone");
            let changes = &zones[&tzid];
            // Each occurrence, at the local time the RRULE repeats, lands where the engine has it.
            let rec = r.recurrence.as_ref().unwrap();
            let until = rec.until.as_deref().map(t);
            let engine = Series {
                start_ms: r.start_time,
                end_ms: r.end_time,
                repeat: Some(Repeat::new(rec.freq, until, zone(&rec.tz).unwrap(), r.start_time, r.end_time)),
                exceptions: Default::default(),
            };
            let first_local = local_ms(start.value.as_deref().unwrap());
            let period = if rec.freq == Frequency::Daily { 86_400_000 } else { 7 * 86_400_000 };
            for (k, (s, _)) in engine.overlapping(r.start_time, r.start_time + 400 * 86_400_000).into_iter().enumerate()
            {
                let local = first_local + k as i64 * period;
                assert_eq!(format_rfc3339(resolve(changes, local)), format_rfc3339(s), "{} occurrence {k}", r.id);
            }
        }
    }
}
