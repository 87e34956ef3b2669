//! What Steward knows of a registered module (`registration.rs` is what the module says): its
//! state, latest report, goodput and the directives sent to it, with the pure rules behind them —
//! when a module counts as lost, how goodput is derived, which registrations are usable.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::alloc::FieldError;
use crate::profile::module::MAX_NAME_LEN;
use crate::registration::{Ack, DirectiveOrder, Registration, UsageReport};

/// A module is `lost` once this many report intervals passed without a report.
pub const MISSED_REPORTS_LOST: i64 = 3;
/// Report intervals a module may promise: faster floods the registry, slower hides a hang.
pub const MIN_REPORT_INTERVAL_MS: u32 = 50;
pub const MAX_REPORT_INTERVAL_MS: u32 = 3_600_000;
/// Features and quality levels one module may declare.
pub const MAX_DECLARED: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ModuleState {
    /// Registered and reporting.
    Active,
    /// Silent for three report intervals, or its node went down.
    Lost,
    /// Said goodbye.
    Deregistered,
}

/// One directive sent to a module and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DirectiveRecord {
    pub order: DirectiveOrder,
    pub sent_ms: i64,
    /// `None` until the module answers.
    pub ack: Option<Ack>,
    pub acked_ms: Option<i64>,
}

/// A registered module as the control center sees it (`GET /api/modules`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ModuleStatus {
    /// The node it runs on (`local` for the control center's own).
    pub node: String,
    pub registration: Registration,
    pub state: ModuleState,
    /// Why it is `lost`, in words.
    pub lost_reason: Option<String>,
    pub registered_ms: i64,
    pub last_report_ms: Option<i64>,
    pub report: Option<UsageReport>,
    /// Work per second between its last two reports; `None` until two reports carried a counter.
    pub goodput_per_s: Option<f64>,
    /// The most recent directives, oldest first.
    pub directives: Vec<DirectiveRecord>,
}

/// Whether a module last heard from at `last_seen_ms` has missed three report intervals.
pub fn is_overdue(last_seen_ms: i64, report_interval_ms: u32, now_ms: i64) -> bool {
    now_ms - last_seen_ms > MISSED_REPORTS_LOST * i64::from(report_interval_ms)
}

/// The goodput rate between two `(time, counter)` reports; `None` when time did not move or the
/// counter went back (the module restarted), rather than a made-up rate.
pub fn goodput_rate(before: (i64, u64), after: (i64, u64)) -> Option<f64> {
    let (dt_ms, done) = (after.0 - before.0, after.1.checked_sub(before.1)?);
    (dt_ms > 0).then(|| done as f64 * 1000.0 / dt_ms as f64)
}

/// Every problem with a registration, field by field; empty when it is usable.
pub fn registration_problems(r: &Registration) -> Vec<FieldError> {
    let mut out = Vec::new();
    let mut bad = |field: &str, message: String| out.push(FieldError::new(field, message));
    let name_ok = |n: &str| {
        !n.is_empty() && n.len() <= MAX_NAME_LEN && n.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
    };
    if !name_ok(&r.name) {
        bad("name", format!("1 to {MAX_NAME_LEN} letters, digits, '_' or '-', not {:?}", r.name));
    }
    if r.role.len() > MAX_NAME_LEN {
        bad("role", format!("at most {MAX_NAME_LEN} characters"));
    }
    if r.features.len() > MAX_DECLARED || r.quality_levels.len() > MAX_DECLARED {
        bad("features", format!("at most {MAX_DECLARED} features and {MAX_DECLARED} quality levels"));
    }
    for (i, f) in r.features.iter().enumerate() {
        if !name_ok(&f.name) {
            bad(&format!("features[{i}].name"), format!("letters, digits, '_' or '-', not {:?}", f.name));
        }
        if r.features[..i].iter().any(|g| g.name == f.name) {
            bad(&format!("features[{i}].name"), format!("{:?} is declared twice", f.name));
        }
    }
    if r.quality_levels.is_empty() {
        bad("quality_levels", "at least level 0 (full quality)".into());
    }
    for (i, q) in r.quality_levels.iter().enumerate() {
        if q.level as usize != i {
            bad(&format!("quality_levels[{i}].level"), format!("levels count 0, 1, 2… in order: expected {i}"));
        }
    }
    if !r.quality_levels.is_empty() && r.minimal_level as usize >= r.quality_levels.len() {
        bad("minimal_level", format!("must be one of the declared levels (0 to {})", r.quality_levels.len() - 1));
    }
    if !(MIN_REPORT_INTERVAL_MS..=MAX_REPORT_INTERVAL_MS).contains(&r.report_interval_ms) {
        bad(
            "report_interval_ms",
            format!("between {MIN_REPORT_INTERVAL_MS} and {MAX_REPORT_INTERVAL_MS} ms, not {}", r.report_interval_ms),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registration::{Criticality, Feature, QualityLevel};

    fn registration() -> Registration {
        let level = |level: u32| QualityLevel {
            level,
            label: format!("level {level}"),
            cpu_millis: None,
            memory_bytes: None,
            gpu_memory_bytes: None,
        };
        Registration {
            name: "vision".into(),
            role: "perception".into(),
            criticality: Criticality::High,
            features: vec![Feature { name: "depth".into(), rank: 1 }],
            quality_levels: vec![level(0), level(1)],
            minimal_level: 1,
            pids: vec![42],
            report_interval_ms: 1000,
        }
    }

    #[test]
    fn lost_only_after_three_whole_intervals() {
        assert!(!is_overdue(1_000, 1000, 4_000));
        assert!(is_overdue(1_000, 1000, 4_001));
    }

    #[test]
    fn goodput_is_a_rate_and_never_invented() {
        assert_eq!(goodput_rate((0, 10), (2_000, 70)), Some(30.0));
        assert_eq!(goodput_rate((0, 70), (2_000, 10)), None, "a restarted counter");
        assert_eq!(goodput_rate((5, 1), (5, 2)), None, "no time passed");
    }

    #[test]
    fn a_sound_registration_has_no_problems() {
        assert_eq!(registration_problems(&registration()), vec![]);
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut r = registration();
        r.name = "a.b".into();
        r.minimal_level = 2;
        r.report_interval_ms = 0;
        r.features.push(Feature { name: "depth".into(), rank: 2 });
        r.quality_levels[1].level = 5;
        let fields: Vec<String> = registration_problems(&r).into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            ["name", "features[1].name", "quality_levels[1].level", "minimal_level", "report_interval_ms"]
        );
        r.quality_levels.clear();
        assert!(registration_problems(&r).iter().any(|p| p.field == "quality_levels"));
    }
}
