//! `POST /resources/energy`: the envelope (`id`, `operation`, and the operation's fields), read
//! with every wrong field named, and the answer shapes — for the monitor's operation (`monitor`,
//! with an optional `node`) and the power manager's (`plan`, `apply`, `rollback`, `journal`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_core::alloc::FieldError;
use steward_core::power::{JournalEntry, Objective, PowerChange, PowerPlan};
use ts_rs::TS;

use crate::energy::EnergyMonitor;
use crate::request_body::{from_value, unknown_keys, with_envelope_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EnergyOperation {
    Monitor,
    Plan,
    Apply,
    Rollback,
    Journal,
}

/// `plan`: exactly one of `target_pct`, `max_slowdown_pct` or `eta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PlanRequest {
    /// Use this many % less energy per unit of work (e.g. 15).
    pub target_pct: Option<f64>,
    /// Save the most energy without slowing down more than this many %.
    pub max_slowdown_pct: Option<f64>,
    /// Zeus's trade-off, 0 (time only) to 1 (energy only).
    pub eta: Option<f64>,
    /// Nodes to plan for (`local` is this machine); all connected ones when absent.
    pub nodes: Option<Vec<String>>,
    /// Devices (`gpu0`) to plan for; every GPU when absent.
    pub devices: Option<Vec<String>>,
    /// Seconds measured at each profiled limit (default 5).
    pub profile_seconds: Option<f64>,
    /// Limits in the coarse sweep (default 6; two more refine it).
    pub points: Option<u32>,
}

/// `apply`: a plan by id, or one change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ApplyRequest {
    pub plan_id: Option<String>,
    pub change: Option<PowerChange>,
    /// Check only: what would be done and whether it could be.
    #[serde(default)]
    pub dry_run: bool,
    /// A single change that outlives this control center (not restored at its next start).
    #[serde(default)]
    pub keep: bool,
    /// Seconds measured after applying a plan, for the outcome (default: the plan's profile time).
    pub measure_seconds: Option<f64>,
}

/// `rollback`: a plan by id, or one journaled change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct RollbackRequest {
    pub plan_id: Option<String>,
    pub change_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Parsed {
    /// Every node, or only this one.
    Monitor(Option<String>),
    Plan(Objective, PlanRequest),
    Apply(ApplyRequest),
    Rollback(RollbackRequest),
    Journal(u32),
}

/// Who asked and why, as the journal keeps them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Author {
    pub who: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EnergyResponse {
    pub request_id: String,
    pub timestamp: String,
    pub operation: EnergyOperation,
    pub result: EnergyResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum EnergyResult {
    Monitor(EnergyMonitor),
    Plan(PowerPlan),
    Changes(ChangesResult),
    Journal(JournalResult),
}

/// What `apply` and `rollback` did: the journal rows they wrote or moved, and the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChangesResult {
    pub changes: Vec<JournalEntry>,
    pub plan: Option<PowerPlan>,
    /// For a dry run or a denied change: what would be done and why it cannot, per change.
    pub dry_run: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct JournalResult {
    pub changes: Vec<JournalEntry>,
    pub plans: Vec<PowerPlan>,
}

const ENVELOPE: &[&str] = &["id", "operation", "who", "why", "node", "plan", "apply", "rollback", "limit"];
/// Most plans profile for a minute per device at most (the planner's budget).
pub(crate) const MAX_PROFILE_SECONDS_PER_DEVICE: f64 = 60.0;

/// The request id (if given), who and why, and the operation; or every problem per field.
pub(crate) fn parse(body: &Value) -> Result<(Option<String>, Author, Parsed), Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("", "the body must be a JSON object")]);
    };
    with_envelope_errors(parse_known(obj), unknown_keys(obj, ENVELOPE))
}

fn text(obj: &serde_json::Map<String, Value>, key: &str, max: usize) -> Result<Option<String>, Vec<FieldError>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= max => Ok(Some(s.clone())),
        Some(_) => Err(vec![FieldError::new(key, format!("must be a string of 1–{max} characters"))]),
    }
}

fn parse_known(obj: &serde_json::Map<String, Value>) -> Result<(Option<String>, Author, Parsed), Vec<FieldError>> {
    let id = text(obj, "id", 128)?;
    let author = Author {
        who: text(obj, "who", 128)?.unwrap_or_else(|| "api".into()),
        why: text(obj, "why", 1024)?.unwrap_or_default(),
    };
    let section = |key: &str| obj.get(key).cloned().unwrap_or(Value::Object(Default::default()));
    let parsed = match obj.get("operation").and_then(Value::as_str) {
        Some("monitor") => Parsed::Monitor(text(obj, "node", 256)?),
        Some("plan") => {
            let req: PlanRequest = from_value("plan", &section("plan"))?;
            Parsed::Plan(objective(&req)?, req)
        }
        Some("apply") => {
            let req: ApplyRequest = from_value("apply", &section("apply"))?;
            check_apply(&req)?;
            Parsed::Apply(req)
        }
        Some("rollback") => {
            let req: RollbackRequest = from_value("rollback", &section("rollback"))?;
            if req.plan_id.is_some() == req.change_id.is_some() {
                return Err(vec![FieldError::new("rollback", "give exactly one of plan_id or change_id")]);
            }
            Parsed::Rollback(req)
        }
        Some("journal") => match obj.get("limit") {
            None | Some(Value::Null) => Parsed::Journal(100),
            Some(v) => match v.as_u64() {
                Some(n @ 1..=1000) => Parsed::Journal(n as u32),
                _ => return Err(vec![FieldError::new("limit", "must be a whole number from 1 to 1000")]),
            },
        },
        _ => {
            return Err(vec![FieldError::new(
                "operation",
                "must be one of \"monitor\", \"plan\", \"apply\", \"rollback\", \"journal\"",
            )]);
        }
    };
    Ok((id, author, parsed))
}

/// The objective of a plan request, or why it has none.
fn objective(req: &PlanRequest) -> Result<Objective, Vec<FieldError>> {
    let mut errors = Vec::new();
    let range = |v: Option<f64>, field: &str, lo: f64, hi: f64, errors: &mut Vec<FieldError>| {
        if let Some(x) = v
            && !(x.is_finite() && x > lo && x <= hi)
        {
            errors.push(FieldError::new(format!("plan.{field}"), format!("must be above {lo} and at most {hi}")));
        }
    };
    range(req.target_pct, "target_pct", 0.0, 95.0, &mut errors);
    range(req.max_slowdown_pct, "max_slowdown_pct", -0.001, 100.0, &mut errors);
    range(req.eta, "eta", -0.001, 1.0, &mut errors);
    let points = req.points.unwrap_or(6);
    if !(2..=12).contains(&points) {
        errors.push(FieldError::new("plan.points", "must be from 2 to 12"));
    }
    let seconds = req.profile_seconds.unwrap_or(5.0);
    if !(seconds.is_finite() && (0.2..=30.0).contains(&seconds)) {
        errors.push(FieldError::new("plan.profile_seconds", "must be from 0.2 to 30"));
    } else if profile_budget(points, seconds) > MAX_PROFILE_SECONDS_PER_DEVICE {
        errors.push(FieldError::new(
            "plan.profile_seconds",
            format!(
                "{points} points (+3 to refine) × {seconds} s exceeds the {MAX_PROFILE_SECONDS_PER_DEVICE} s of profiling per device"
            ),
        ));
    }
    let given = [req.target_pct.is_some(), req.max_slowdown_pct.is_some(), req.eta.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        errors.push(FieldError::new("plan", "give exactly one of target_pct, max_slowdown_pct or eta"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(match (req.target_pct, req.max_slowdown_pct, req.eta) {
        (Some(pct), _, _) => Objective::TargetReduction { pct },
        (_, Some(pct), _) => Objective::MaxSlowdown { pct },
        (_, _, Some(eta)) => Objective::Eta { eta },
        _ => unreachable!("exactly one was checked above"),
    })
}

/// Seconds of profiling per device: each point (the coarse ones, two refining ones and the
/// baseline again) is measured after a settling fifth.
pub(crate) fn profile_budget(points: u32, seconds: f64) -> f64 {
    f64::from(points + 3) * seconds * 1.2
}

fn check_apply(req: &ApplyRequest) -> Result<(), Vec<FieldError>> {
    let mut errors = match (&req.plan_id, &req.change) {
        (Some(_), None) => Vec::new(),
        (None, Some(c)) => c.validate("apply.change"),
        _ => vec![FieldError::new("apply", "give exactly one of plan_id or change")],
    };
    if let Some(s) = req.measure_seconds
        && !(s.is_finite() && (0.2..=60.0).contains(&s))
    {
        errors.push(FieldError::new("apply.measure_seconds", "must be from 0.2 to 60"));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(body: Value) -> Vec<String> {
        parse(&body).unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn every_wrong_field_is_named() {
        assert_eq!(fields(json!({"operation": "plan", "plan": {"target_pct": 150}})), ["plan.target_pct"]);
        assert_eq!(fields(json!({"operation": "plan", "plan": {}})), ["plan"]);
        assert_eq!(
            fields(json!({"operation": "plan", "plan": {"eta": 0.5, "profile_seconds": 30}})),
            ["plan.profile_seconds"]
        );
        assert_eq!(fields(json!({"operation": "warp"})), ["operation"]);
        assert_eq!(fields(json!({"operation": "rollback", "rollback": {}})), ["rollback"]);
        assert_eq!(fields(json!({"operation": "journal", "limit": 0, "extra": 1})), ["limit", "extra"]);
        let bad_change = json!({"operation": "apply", "apply": {"change": {"node": "local", "device": "gpu0", "knob": "gpu_power_limit", "value": "x"}}});
        assert_eq!(fields(bad_change), ["apply.change.value"]);
    }

    #[test]
    fn a_plan_at_fifteen_percent_reads() {
        let (id, author, parsed) =
            parse(&json!({"id": "r1", "operation": "plan", "who": "ann", "plan": {"target_pct": 15}})).unwrap();
        assert_eq!((id.as_deref(), author.who.as_str()), (Some("r1"), "ann"));
        assert!(matches!(parsed, Parsed::Plan(Objective::TargetReduction { pct }, _) if pct == 15.0));
    }
}
