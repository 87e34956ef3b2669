//! Reservations as an iCalendar (RFC 5545) file for any calendar application.

use super::record::Reservation;
use super::request::Frequency;
use super::time::format_rfc3339;

/// `20250102T090000Z` from ms.
fn utc_basic(ms: i64) -> String {
    format_rfc3339(ms).replace(['-', ':'], "").split('.').next().unwrap_or_default().trim_end_matches('Z').to_string() + "Z"
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

/// The calendar of `reservations` (series, not expanded: repeats become RRULEs), stamped `now`.
pub fn to_ics(reservations: &[Reservation], now: i64) -> String {
    let mut out = String::new();
    let mut line = |l: String| fold(&l, &mut out);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Steward//Reservations//EN".into());
    for r in reservations {
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}@steward", escape(&r.id)));
        line(format!("DTSTAMP:{}", utc_basic(now)));
        let local = r.recurrence.as_ref().and_then(|rec| Some((&rec.tz, local_basic(r.start_time, &rec.tz)?, local_basic(r.end_time, &rec.tz)?)));
        match local {
            // A repeat is anchored in its zone so it keeps its wall-clock time across DST.
            Some((tz, s, e)) => {
                line(format!("DTSTART;TZID={tz}:{s}"));
                line(format!("DTEND;TZID={tz}:{e}"));
            }
            None => {
                line(format!("DTSTART:{}", utc_basic(r.start_time)));
                line(format!("DTEND:{}", utc_basic(r.end_time)));
            }
        }
        if let Some(rec) = &r.recurrence {
            let freq = match rec.freq {
                Frequency::Daily => "DAILY",
                Frequency::Weekly => "WEEKLY",
            };
            let until = rec.until.as_deref().and_then(|u| super::time::parse_rfc3339(u).ok()).map(|u| format!(";UNTIL={}", utc_basic(u)));
            line(format!("RRULE:FREQ={freq}{}", until.unwrap_or_default()));
        }
        let what = if r.gpus.is_empty() { r.node.clone() } else { r.gpus.join(", ") };
        line(format!("SUMMARY:{}", escape(&format!("{} ({what})", r.name))));
        line(format!(
            "DESCRIPTION:{}",
            escape(&format!("owner {}; node {}; {} cores; {} MiB memory", r.owner, r.node, r.cores, r.memory_bytes >> 20))
        ));
        line("END:VEVENT".into());
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
        };
        let ics = to_ics(&[r], 0);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.contains("DTSTART:20250102T090000Z\r\n"), "{ics}");
        assert!(ics.contains("SUMMARY:train\\, big (vm/gpu0)"));
        assert!(ics.lines().all(|l| l.len() <= 76));
    }
}
