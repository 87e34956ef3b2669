//! Energy-aware placement of a deferrable allocation: the start, between now and its deadline,
//! at which its run costs least under an hourly tariff or carbon-intensity schedule.
//!
//! The cost of a run of fixed length is piecewise linear in its start: it only bends where the
//! start or the end crosses an hour boundary. Its minimum over `[now, deadline − duration]` is
//! therefore at one of those bends or an end of the range, so checking those few candidates is
//! exact — no sampling step to tune.

use super::schedule::HourlyRate;

const HOUR_MS: i64 = 3_600_000;

/// Where a deferrable run goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub start_ms: i64,
    pub end_ms: i64,
    /// `rate × kWh` at one kilowatt: the run's cost per kW of draw (multiply by the kW it draws).
    pub cost_per_kw: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WindowError {
    #[error("a run of {duration_ms} ms started now ({now_ms}) ends after its deadline ({deadline_ms})")]
    DeadlineUnreachable { now_ms: i64, duration_ms: i64, deadline_ms: i64 },
    #[error("duration must be positive, not {0} ms")]
    BadDuration(i64),
}

/// The cheapest start for a run of `duration_ms` that begins no earlier than `now_ms` and ends
/// by `deadline_ms`. `utc_offset_s` turns instants into the schedule's local hours. Among equally
/// cheap starts the earliest wins, so the work is done as soon as waiting stops paying.
pub fn cheapest_start(
    rate: &HourlyRate,
    now_ms: i64,
    duration_ms: i64,
    deadline_ms: i64,
    utc_offset_s: i32,
) -> Result<Placement, WindowError> {
    if duration_ms <= 0 {
        return Err(WindowError::BadDuration(duration_ms));
    }
    let latest = deadline_ms - duration_ms;
    if latest < now_ms {
        return Err(WindowError::DeadlineUnreachable { now_ms, duration_ms, deadline_ms });
    }
    let offset_ms = i64::from(utc_offset_s) * 1000;
    let mut best: Option<Placement> = None;
    for start in candidates(now_ms, latest, duration_ms, offset_ms) {
        let cost = run_cost(rate, start, duration_ms, offset_ms);
        // Candidates ascend, so only a strictly cheaper one displaces an earlier start.
        if best.as_ref().is_none_or(|b| cost < b.cost_per_kw - 1e-12) {
            best = Some(Placement { start_ms: start, end_ms: start + duration_ms, cost_per_kw: cost });
        }
    }
    Ok(best.expect("the range holds at least `now`"))
}

/// The ends of the range and every start at which the run's start or end meets an hour
/// boundary, ascending.
fn candidates(now: i64, latest: i64, duration: i64, offset_ms: i64) -> Vec<i64> {
    let mut out = vec![now, latest];
    for shift in [0, duration] {
        // Starts `s` with `s + shift + offset` on an hour boundary.
        let first = next_boundary(now + shift + offset_ms) - shift - offset_ms;
        out.extend((0..).map(|k| first + k * HOUR_MS).take_while(|s| *s <= latest));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The first multiple of an hour at or after `t`.
fn next_boundary(t: i64) -> i64 {
    t.div_euclid(HOUR_MS) * HOUR_MS + if t.rem_euclid(HOUR_MS) == 0 { 0 } else { HOUR_MS }
}

/// `Σ rate(hour) × kWh` for one kilowatt drawn from `start` for `duration` ms.
pub fn run_cost(rate: &HourlyRate, start: i64, duration: i64, offset_ms: i64) -> f64 {
    let (mut t, end) = (start + offset_ms, start + offset_ms + duration);
    let mut cost = 0.0;
    while t < end {
        let hour_end = (t.div_euclid(HOUR_MS) + 1) * HOUR_MS;
        let span = hour_end.min(end) - t;
        let hour = t.div_euclid(HOUR_MS).rem_euclid(24) as u32;
        cost += rate.at(hour) * span as f64 / HOUR_MS as f64;
        t += span;
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn night_cheap() -> HourlyRate {
        let mut hours = vec![0.40; 24];
        hours[1..5].fill(0.10);
        HourlyRate::PerHour(hours)
    }

    #[test]
    fn waits_for_the_cheap_night_hours() {
        // 22:00 UTC, a 2-hour run due by 08:00 the next day: it goes into 01:00–03:00.
        let now = 22 * HOUR_MS;
        let p = cheapest_start(&night_cheap(), now, 2 * HOUR_MS, now + 10 * HOUR_MS, 0).unwrap();
        assert_eq!(p.start_ms, 25 * HOUR_MS);
        assert!((p.cost_per_kw - 0.20).abs() < 1e-12);
    }

    #[test]
    fn a_flat_tariff_starts_now() {
        let p = cheapest_start(&HourlyRate::Constant(0.3), 1234, HOUR_MS, 10 * HOUR_MS, 0).unwrap();
        assert_eq!(p.start_ms, 1234);
    }

    #[test]
    fn a_tight_deadline_leaves_no_choice_and_a_missed_one_is_an_error() {
        let now = 22 * HOUR_MS;
        let p = cheapest_start(&night_cheap(), now, 2 * HOUR_MS, now + 2 * HOUR_MS, 0).unwrap();
        assert_eq!(p.start_ms, now);
        assert!(matches!(
            cheapest_start(&night_cheap(), now, 2 * HOUR_MS, now + HOUR_MS, 0),
            Err(WindowError::DeadlineUnreachable { .. })
        ));
        assert!(matches!(cheapest_start(&night_cheap(), now, 0, now + HOUR_MS, 0), Err(WindowError::BadDuration(0))));
    }

    #[test]
    fn the_offset_moves_the_cheap_hours() {
        // At UTC+2 local 01:00 is 23:00 UTC.
        let now = 20 * HOUR_MS;
        let p = cheapest_start(&night_cheap(), now, HOUR_MS, now + 10 * HOUR_MS, 2 * 3600).unwrap();
        assert_eq!(p.start_ms, 23 * HOUR_MS);
    }

    fn rates() -> impl Strategy<Value = HourlyRate> {
        proptest::collection::vec(0.0f64..1.0, 24).prop_map(HourlyRate::PerHour)
    }

    proptest! {
        #[test]
        fn never_late_and_never_beaten_by_a_feasible_start(
            rate in rates(),
            now_min in 0i64..(3 * 24 * 60),
            duration_min in 1i64..(6 * 60),
            slack_min in 0i64..(30 * 60),
            offset_h in -12i32..14,
        ) {
            let (now, duration) = (now_min * 60_000, duration_min * 60_000);
            let deadline = now + duration + slack_min * 60_000;
            let offset = offset_h * 3600;
            let p = cheapest_start(&rate, now, duration, deadline, offset).unwrap();
            prop_assert!(p.start_ms >= now);
            prop_assert!(p.end_ms <= deadline);
            prop_assert_eq!(p.end_ms - p.start_ms, duration);
            // Brute force over every minute-aligned feasible start.
            for s in (now..=deadline - duration).step_by(60_000) {
                let c = run_cost(&rate, s, duration, i64::from(offset) * 1000);
                prop_assert!(p.cost_per_kw <= c + 1e-9, "start {} costs {} < chosen {}", s, c, p.cost_per_kw);
            }
        }
    }
}
