//! Findings as events: one `Started` when a rule first fires, one `Ended` only after it has been
//! quiet for `clear_after_ms`. With the rules' own exit thresholds this keeps a flapping signal
//! from producing a storm of events.

use std::collections::{BTreeMap, BTreeSet};

use super::finding::{EventKind, Finding, ProfileEvent};
use crate::TimestampMs;

#[derive(Debug, Default, Clone)]
pub struct Tracker {
    active: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    finding: Finding,
    since_ms: TimestampMs,
    last_fired_ms: TimestampMs,
}

impl Tracker {
    pub fn new() -> Self {
        Tracker::default()
    }

    /// Keys of the findings in force, for the rules' exit thresholds.
    pub fn active_keys(&self) -> BTreeSet<String> {
        self.active.keys().cloned().collect()
    }

    /// Takes this evaluation's findings; returns the events it causes.
    pub fn update(&mut self, now_ms: TimestampMs, fired: Vec<Finding>, clear_after_ms: i64) -> Vec<ProfileEvent> {
        let mut events = Vec::new();
        let mut seen = BTreeSet::new();
        for f in fired {
            seen.insert(f.key.clone());
            match self.active.get_mut(&f.key) {
                Some(e) => {
                    e.finding = f;
                    e.last_fired_ms = now_ms;
                }
                None => {
                    events.push(event(now_ms, EventKind::Started, &f));
                    self.active.insert(f.key.clone(), Entry { finding: f, since_ms: now_ms, last_fired_ms: now_ms });
                }
            }
        }
        let ended: Vec<String> = self
            .active
            .iter()
            .filter(|(k, e)| !seen.contains(*k) && now_ms - e.last_fired_ms >= clear_after_ms)
            .map(|(k, _)| k.clone())
            .collect();
        for k in ended {
            if let Some(e) = self.active.remove(&k) {
                events.push(event(now_ms, EventKind::Ended, &e.finding));
            }
        }
        events
    }

    /// The findings in force, most severe first, each with the time it started.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out: Vec<Finding> =
            self.active.values().map(|e| Finding { since_ms: e.since_ms, ..e.finding.clone() }).collect();
        super::rules::sort(&mut out);
        out
    }
}

fn event(ts_ms: TimestampMs, kind: EventKind, f: &Finding) -> ProfileEvent {
    ProfileEvent {
        ts_ms,
        kind,
        key: f.key.clone(),
        resource: f.resource,
        severity: f.severity,
        summary: f.summary.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Resource, Severity};
    use proptest::prelude::*;

    fn f(key: &str) -> Finding {
        Finding {
            key: key.into(),
            resource: Resource::Cpu,
            severity: Severity::Warning,
            summary: "s".into(),
            culprits: vec![],
            evidence: vec![],
            since_ms: 0,
        }
    }

    #[test]
    fn starts_once_and_ends_after_the_quiet_period() {
        let mut t = Tracker::new();
        assert_eq!(t.update(0, vec![f("cpu")], 15_000).len(), 1);
        assert!(t.update(1_000, vec![f("cpu")], 15_000).is_empty());
        assert!(t.update(2_000, vec![], 15_000).is_empty(), "quiet for 1 s only");
        assert_eq!(t.findings()[0].since_ms, 0);
        let e = t.update(16_000, vec![], 15_000);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, EventKind::Ended);
        assert!(t.findings().is_empty());
    }

    proptest! {
        /// Whatever the flapping, per key events alternate Started/Ended, and an Ended comes at
        /// least `clear` after the finding last fired, so a signal flapping faster than `clear`
        /// starts one event.
        #[test]
        fn flapping_cannot_cause_a_storm(fires in proptest::collection::vec(any::<bool>(), 1..200), clear in 1i64..20) {
            let mut t = Tracker::new();
            let mut last_fire = None;
            let mut started = false;
            let mut starts = 0;
            for (i, &fire) in fires.iter().enumerate() {
                let now = i as i64;
                let ev = t.update(now, if fire { vec![f("k")] } else { vec![] }, clear);
                if fire { last_fire = Some(now); }
                for e in ev {
                    match e.kind {
                        EventKind::Started => { prop_assert!(!started); started = true; starts += 1; }
                        EventKind::Ended => {
                            prop_assert!(started);
                            prop_assert!(now - last_fire.unwrap() >= clear);
                            started = false;
                        }
                    }
                }
            }
            // Starts are bounded by the runs of firing separated by ≥ clear quiet steps.
            let mut runs = 0;
            let mut gap = i64::MAX;
            for &fire in &fires {
                if fire { if gap >= clear { runs += 1; } gap = 0; } else { gap = gap.saturating_add(1); }
            }
            prop_assert!(starts <= runs);
        }
    }
}
