//! `POST /resources/degradation`: the envelope (`id`, `operation`, and the operation's fields)
//! and the answer, shaped like `/resources/allocate` and `/resources/distributed`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_core::alloc::FieldError;
use steward_core::degrade::{DegradationEvent, DegradationPolicy, ModuleOverride};
use ts_rs::TS;

use super::status::DegradationStatus;
use crate::request_body::{envelope_id, from_value, unknown_keys, with_envelope_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DegradationOperation {
    Status,
    SetPolicy,
    Override,
    ReleaseOverride,
    History,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DegradationResponse {
    /// The request's `id` (generated when it had none).
    pub request_id: String,
    pub timestamp: String,
    pub operation: DegradationOperation,
    pub result: DegradationResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum DegradationResult {
    Status(Box<DegradationStatus>),
    /// `set_policy`: the policies now in force.
    Policies {
        policies: Vec<DegradationPolicy>,
    },
    Override {
        over: ModuleOverride,
    },
    Released {
        released: String,
    },
    History {
        events: Vec<DegradationEvent>,
    },
}

/// What a person asks of one module (`override`); who and when are added by Steward.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct OverrideRequest {
    pub module: String,
    #[serde(default)]
    pub force_level: Option<u32>,
    #[serde(default)]
    pub pinned_features: Vec<String>,
    #[serde(default)]
    pub exempt: bool,
    #[serde(default)]
    pub reason: String,
}

pub(crate) enum Parsed {
    Status,
    SetPolicy(Box<DegradationPolicy>),
    RemovePolicy(String),
    Override(OverrideRequest),
    Release(String),
    History { since_ms: i64, limit: usize },
}

/// The longest history one request reads.
pub const MAX_HISTORY: usize = 5_000;

/// The request id, who asks (`by`, default `api`) and the operation; or every wrong field.
pub(crate) fn parse(body: &Value) -> Result<(Option<String>, String, Parsed), Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("", "the body must be a JSON object")]);
    };
    let known = ["id", "operation", "by", "policy", "remove", "override", "module", "since_ms", "limit"];
    with_envelope_errors(parse_known(obj), unknown_keys(obj, &known))
}

fn parse_known(obj: &serde_json::Map<String, Value>) -> Result<(Option<String>, String, Parsed), Vec<FieldError>> {
    let id = envelope_id(obj)?;
    let by = match obj.get("by") {
        None | Some(Value::Null) => "api".to_string(),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 64 => s.clone(),
        Some(_) => return Err(vec![FieldError::new("by", "must be a string of 1–64 characters (who asks)")]),
    };
    let string = |key: &str, why: &str| match obj.get(key) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 64 => Ok(s.clone()),
        _ => Err(vec![FieldError::new(key, why)]),
    };
    let parsed = match obj.get("operation").and_then(Value::as_str) {
        Some("status") => Parsed::Status,
        Some("set_policy") => match (obj.get("policy"), obj.get("remove")) {
            (Some(p), None) => Parsed::SetPolicy(Box::new(from_value("policy", p)?)),
            (None, Some(_)) => Parsed::RemovePolicy(string("remove", "must name the policy to remove")?),
            _ => return Err(vec![FieldError::new("policy", "set_policy takes a policy, or remove with its name")]),
        },
        Some("override") => match obj.get("override") {
            Some(o) => Parsed::Override(from_value("override", o)?),
            None => return Err(vec![FieldError::new("override", "is required for operation \"override\"")]),
        },
        Some("release_override") => {
            Parsed::Release(string("module", "is required for operation \"release_override\" (a module name)")?)
        }
        Some("history") => {
            let since_ms = match obj.get("since_ms") {
                None | Some(Value::Null) => 0,
                Some(v) => {
                    v.as_i64().ok_or_else(|| vec![FieldError::new("since_ms", "must be a whole number of ms")])?
                }
            };
            let limit = match obj.get("limit") {
                None | Some(Value::Null) => 500,
                Some(v) => match v.as_u64() {
                    Some(n) if (1..=MAX_HISTORY as u64).contains(&n) => n as usize,
                    _ => return Err(vec![FieldError::new("limit", format!("must be 1–{MAX_HISTORY}"))]),
                },
            };
            Parsed::History { since_ms, limit }
        }
        other => {
            let got = other.map_or_else(|| "nothing".to_string(), |o| format!("{o:?}"));
            return Err(vec![FieldError::new(
                "operation",
                format!(
                    "must be \"status\", \"set_policy\", \"override\", \"release_override\" or \"history\", got {got}"
                ),
            )]);
        }
    };
    Ok((id, by, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Vec<String> {
        parse(&v).err().unwrap().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn every_malformed_body_names_its_field() {
        assert_eq!(fields(json!([1])), [""]);
        assert_eq!(fields(json!({"operation": "explode"})), ["operation"]);
        assert_eq!(fields(json!({"operation": "release_override"})), ["module"]);
        assert_eq!(fields(json!({"operation": "override"})), ["override"]);
        assert_eq!(
            fields(json!({"operation": "override", "override": {"module": "m", "force_level": "two"}})),
            ["override.force_level"]
        );
        assert_eq!(fields(json!({"operation": "history", "limit": 0})), ["limit"]);
        assert_eq!(fields(json!({"operation": "status", "colour": 1})), ["colour"]);
        assert_eq!(fields(json!({"operation": "status", "id": 7})), ["id"]);
        let (id, by, p) =
            parse(&json!({"id": "r1", "by": "ana", "operation": "release_override", "module": "m"})).unwrap();
        assert_eq!((id.as_deref(), by.as_str()), (Some("r1"), "ana"));
        assert!(matches!(p, Parsed::Release(m) if m == "m"));
    }
}
