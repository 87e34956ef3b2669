//! Reservations as an iCalendar (RFC 5545) file for any calendar application.

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

/// The calendar of `reservations` (series, not expanded: repeats become RRULEs, a cancelled
/// occurrence an EXDATE, a moved one an override with its RECURRENCE-ID), stamped `now`.
pub fn to_ics(reservations: &[Reservation], now: i64) -> String {
    let mut out = String::new();
    let mut line = |l: String| fold(&l, &mut out);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Steward//Reservations//EN".into());
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
        let tz = r.recurrence.as_ref().map(|rec| rec.tz.as_str()).filter(|tz| super::recurrence::zone(tz).is_some());
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
}
