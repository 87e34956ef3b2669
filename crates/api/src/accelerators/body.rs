//! `POST /resources/accelerators`: the envelope (`operation`: analyze | map | advise), each
//! operation's fields read with per-field errors, and the answer shapes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use steward_core::accel::mapping::Policy;
use steward_core::accel::{Advice, Analysis, DeviceProfile, Excluded, MappingPlan, Workload};
use steward_core::alloc::{AllocState, FieldError, Priority};
use ts_rs::TS;

use crate::request_body::{envelope_id, from_value, unknown_keys, with_envelope_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AcceleratorOperation {
    Analyze,
    Map,
    Advise,
}

/// One task of a `map` request: what it computes, and who runs it when placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MapTaskRequest {
    /// Also the allocation's id when placed.
    pub id: String,
    pub workload: Workload,
    #[serde(default = "mapper")]
    pub owner: String,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub cores: u32,
    #[serde(default)]
    pub memory_bytes: u64,
    #[serde(default)]
    pub duration_s: Option<u64>,
}

fn mapper() -> String {
    "mapper".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AcceleratorsResponse {
    pub request_id: String,
    pub timestamp: String,
    pub operation: AcceleratorOperation,
    pub result: AcceleratorResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum AcceleratorResult {
    Analyze(AnalyzeResult),
    Map(MapResult),
    Advise(AdviseResult),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AnalyzeResult {
    pub analysis: Analysis,
    /// Devices of the cluster left out, with why.
    pub excluded: Vec<Excluded>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AdviseResult {
    /// The device the advice is for.
    pub device: String,
    pub advice: Vec<Advice>,
    /// Why the list is empty, when it is.
    pub note: Option<String>,
    pub excluded: Vec<Excluded>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MapResult {
    pub plan: MappingPlan,
    pub excluded: Vec<Excluded>,
    /// With `place: true`: what the allocation engine made of each placement.
    pub placed: Vec<PlacedTask>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PlacedTask {
    pub task: String,
    pub device: String,
    /// `running`, or `pending` behind the tasks mapped before it; absent when refused.
    pub state: Option<AllocState>,
    pub pending_reason: Option<String>,
    /// The engine's refusal (quota, constraints), when it refused.
    pub error: Option<String>,
}

pub(crate) enum Parsed {
    Analyze { workload: Workload },
    Advise { workload: Workload, device: Option<String> },
    Map { tasks: Vec<MapTaskRequest>, policy: Policy, place: bool },
}

pub(crate) struct Request {
    pub id: Option<String>,
    pub devices: Vec<DeviceProfile>,
    pub parsed: Parsed,
}

const KEYS: &[&str] = &["id", "operation", "workload", "device", "devices", "tasks", "policy", "place"];
const MAX_TASKS: usize = 10_000;

pub(crate) fn parse(body: &Value) -> Result<Request, Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("", "the body must be a JSON object")]);
    };
    with_envelope_errors(parse_known(obj), unknown_keys(obj, KEYS))
}

fn parse_known(obj: &Map<String, Value>) -> Result<Request, Vec<FieldError>> {
    let id = envelope_id(obj)?;
    let devices: Vec<DeviceProfile> = optional(obj, "devices")?.unwrap_or_default();
    let mut errors: Vec<FieldError> =
        devices.iter().enumerate().flat_map(|(i, d)| d.validate(&format!("devices[{i}]"))).collect();
    let parsed = match obj.get("operation").and_then(Value::as_str) {
        Some("analyze") => Parsed::Analyze { workload: workload(obj, &mut errors)? },
        Some("advise") => Parsed::Advise { workload: workload(obj, &mut errors)?, device: optional(obj, "device")? },
        Some("map") => map(obj, &mut errors)?,
        other => {
            let got = other.map_or_else(|| "nothing".to_string(), |o| format!("{o:?}"));
            return Err(vec![FieldError::new(
                "operation",
                format!("must be \"analyze\", \"map\" or \"advise\", got {got}"),
            )]);
        }
    };
    if errors.is_empty() { Ok(Request { id, devices, parsed }) } else { Err(errors) }
}

fn optional<T: serde::de::DeserializeOwned>(obj: &Map<String, Value>, key: &str) -> Result<Option<T>, Vec<FieldError>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => from_value(key, v).map(Some),
    }
}

fn workload(obj: &Map<String, Value>, errors: &mut Vec<FieldError>) -> Result<Workload, Vec<FieldError>> {
    let Some(w) = optional::<Workload>(obj, "workload")? else {
        return Err(vec![FieldError::new("workload", "is required for this operation")]);
    };
    errors.extend(w.validate("workload"));
    Ok(w)
}

fn map(obj: &Map<String, Value>, errors: &mut Vec<FieldError>) -> Result<Parsed, Vec<FieldError>> {
    // Every field is read, so one answer names all that is wrong.
    let read = |key: &str| -> Option<Value> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.clone()),
        }
    };
    let tasks: Option<Vec<MapTaskRequest>> = match read("tasks") {
        None => {
            errors.push(FieldError::new("tasks", "is required for operation \"map\""));
            None
        }
        Some(v) => from_value("tasks", &v).map_err(|e| errors.extend(e)).ok(),
    };
    let policy: Policy =
        read("policy").and_then(|v| from_value("policy", &v).map_err(|e| errors.extend(e)).ok()).unwrap_or_default();
    let place: bool =
        read("place").and_then(|v| from_value("place", &v).map_err(|e| errors.extend(e)).ok()).unwrap_or(false);
    let Some(tasks) = tasks else { return Err(std::mem::take(errors)) };
    if tasks.is_empty() || tasks.len() > MAX_TASKS {
        errors.push(FieldError::new("tasks", format!("must list 1–{MAX_TASKS} tasks")));
    }
    for (i, t) in tasks.iter().enumerate() {
        if t.id.is_empty() || t.id.len() > 128 || t.id.chars().any(|c| c.is_control() || c == '/' || c == '#') {
            errors.push(FieldError::new(format!("tasks[{i}].id"), "must be 1–128 characters without '/', '#'"));
        } else if tasks[..i].iter().any(|o| o.id == t.id) {
            errors.push(FieldError::new(format!("tasks[{i}].id"), format!("{:?} is listed twice", t.id)));
        }
        errors.extend(t.workload.validate(&format!("tasks[{i}].workload")));
    }
    Ok(Parsed::Map { tasks, policy, place })
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
        assert_eq!(fields(json!({"operation": "analyze"})), ["workload"]);
        assert_eq!(fields(json!({"operation": "map"})), ["tasks"]);
        assert_eq!(fields(json!({"operation": "analyze", "workload": {"parameters": 0}})), ["workload.parameters"]);
        assert_eq!(
            fields(json!({"operation": "analyze", "workload": {"parameters": 5, "precision": "f13"}})),
            ["workload.precision"]
        );
        assert_eq!(
            fields(
                json!({"operation": "map", "tasks": [{"id": "a", "workload": {"parameters": 1}}, {"id": "a", "workload": {}}]})
            ),
            ["tasks[1].id", "tasks[1].workload.parameters"]
        );
        assert_eq!(
            fields(
                json!({"operation": "map", "policy": "cheap", "tasks": [{"id": "a", "workload": {"parameters": 1}}]})
            ),
            ["policy"]
        );
        assert_eq!(fields(json!({"operation": "advise", "workload": {"parameters": 1}, "bogus": 1})), ["bogus"]);
        assert_eq!(
            fields(json!({"operation": "analyze", "workload": {"parameters": 1},
                "devices": [{"id": "x", "node": "n", "name": "X", "memory_bytes": 0, "bandwidth_bytes_per_s": 1.0,
                             "peak_flops": {}, "source": {"kind": "supplied"}}]})),
            ["devices[0].memory_bytes", "devices[0].peak_flops"]
        );
        assert!(
            parse(&json!({"operation": "map", "tasks": [{"id": "a", "workload": {"parameters": 1}}], "place": true}))
                .is_ok()
        );
    }
}
