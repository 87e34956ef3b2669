//! `POST /resources/accelerators`: the body and the answer, in the envelope every
//! `/resources/*` endpoint shares. `operation` is one of
//! - `list`, `register`, `characterize`, `place`: what each node has, registering one no driver
//!   reports, measuring this machine's adapters, placing a pending allocation on a GPU;
//! - `analyze`, `advise`, `map` (with `place: true`, submitted): workloads against the devices.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use steward_core::accel::mapping::Policy;
use steward_core::accel::{
    AcceleratorSpec, Advice, Analysis, Characterization, DeviceProfile, Excluded, GpuInfo, GpuLink, MappingPlan,
    Workload,
};
use steward_core::alloc::{AllocState, FieldError, Priority};
use steward_core::cluster::NodeHealth;
use steward_core::{Adapter, Reading};
use ts_rs::TS;

use crate::AllocateResult;
use crate::envelope;
use crate::request_body::{envelope_id, from_value, unknown_keys, with_envelope_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AcceleratorOperation {
    List,
    Register,
    Characterize,
    Place,
    Analyze,
    Map,
    Advise,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AcceleratorsResponse {
    /// The request's `id` (generated when it had none).
    pub request_id: String,
    pub timestamp: String,
    pub operation: AcceleratorOperation,
    pub result: AcceleratorsResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum AcceleratorsResult {
    List(AcceleratorList),
    Register(Registered),
    Characterize(Characterized),
    Place(AllocateResult),
    Analyze(AnalyzeResult),
    Map(MapResult),
    Advise(AdviseResult),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AcceleratorList {
    pub nodes: Vec<NodeAccelerators>,
}

/// Every accelerator of one node, what joins its GPUs, and what was measured there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodeAccelerators {
    pub node: String,
    pub name: String,
    pub state: NodeHealth,
    pub gpus: Reading<Vec<GpuInfo>>,
    pub gpu_links: Reading<Vec<GpuLink>>,
    /// Software adapters are listed (and benchmarked) but never offered for placement.
    pub adapters: Reading<Vec<Adapter>>,
    pub registered: Vec<RegisteredAccelerator>,
    pub characterizations: Vec<Characterization>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RegistrationSource {
    /// `[[accelerators]]` in the control center's config file.
    Config,
    /// Registered through the API (kept in the database).
    Api,
    /// `stewardd --accelerators FILE` on the node itself.
    Agent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RegisteredAccelerator {
    pub spec: AcceleratorSpec,
    pub source: RegistrationSource,
    pub health: Reading<HealthCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HealthCheck {
    pub healthy: bool,
    /// The exit status and the last line the command printed.
    pub detail: String,
    pub checked_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Registered {
    pub accelerator: RegisteredAccelerator,
    /// True when it replaced an earlier registration with its node and id.
    pub replaced: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Characterized {
    pub characterizations: Vec<Characterization>,
}

/// A pending allocation and where to run it instead (a drag in the accelerator view).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PlaceAllocation {
    pub allocation_id: String,
    pub node: String,
    /// A GPU of that node (`node/gpuN`); its model becomes a constraint.
    #[serde(default)]
    #[ts(optional)]
    pub gpu: Option<String>,
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
    List,
    Register(Box<AcceleratorSpec>),
    /// Adapters whose name contains the filter (all when `None`), on `node`.
    Characterize {
        node: String,
        adapter: Option<String>,
    },
    Place(PlaceAllocation),
    Analyze {
        workload: Workload,
    },
    Advise {
        workload: Workload,
        device: Option<String>,
    },
    Map {
        tasks: Vec<MapTaskRequest>,
        policy: Policy,
        place: bool,
    },
}

impl Parsed {
    pub fn operation(&self) -> AcceleratorOperation {
        match self {
            Parsed::List => AcceleratorOperation::List,
            Parsed::Register(_) => AcceleratorOperation::Register,
            Parsed::Characterize { .. } => AcceleratorOperation::Characterize,
            Parsed::Place(_) => AcceleratorOperation::Place,
            Parsed::Analyze { .. } => AcceleratorOperation::Analyze,
            Parsed::Advise { .. } => AcceleratorOperation::Advise,
            Parsed::Map { .. } => AcceleratorOperation::Map,
        }
    }
}

pub(crate) struct Request {
    pub id: Option<String>,
    /// Device profiles supplied with `analyze`, `advise` or `map`.
    pub devices: Vec<DeviceProfile>,
    pub parsed: Parsed,
}

const OPERATIONS: [&str; 7] = ["list", "register", "characterize", "place", "analyze", "map", "advise"];
const KEYS: &[&str] = &[
    "id",
    "operation",
    "accelerator",
    "node",
    "adapter",
    "placement",
    "workload",
    "device",
    "devices",
    "tasks",
    "policy",
    "place",
];
const MAX_TASKS: usize = 10_000;

/// The request id (if given), the operation and its fields, or every problem per field.
pub(crate) fn parse(body: &Value) -> Result<Request, Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("", "the body must be a JSON object")]);
    };
    with_envelope_errors(parse_known(obj), unknown_keys(obj, KEYS))
}

fn parse_known(obj: &Map<String, Value>) -> Result<Request, Vec<FieldError>> {
    let id = envelope_id(obj)?;
    let operation = envelope::operation(obj, "operation", &OPERATIONS).map_err(|e| vec![e])?;
    let devices: Vec<DeviceProfile> = optional(obj, "devices")?.unwrap_or_default();
    let mut errors: Vec<FieldError> =
        devices.iter().enumerate().flat_map(|(i, d)| d.validate(&format!("devices[{i}]"))).collect();
    let parsed = match operation {
        "list" => Parsed::List,
        "register" => {
            let v = required(obj, "accelerator", "register")?;
            let spec: AcceleratorSpec = from_value("accelerator", v)?;
            errors.extend(spec.validate("accelerator"));
            Parsed::Register(Box::new(spec))
        }
        "characterize" => Parsed::Characterize {
            node: optional_string(obj, "node")?.unwrap_or_else(|| crate::cluster::LOCAL_NODE.into()),
            adapter: optional_string(obj, "adapter")?,
        },
        "place" => Parsed::Place(from_value("placement", required(obj, "placement", "place")?)?),
        "analyze" => Parsed::Analyze { workload: workload(obj, &mut errors)? },
        "advise" => Parsed::Advise { workload: workload(obj, &mut errors)?, device: optional(obj, "device")? },
        _ => map(obj, &mut errors)?,
    };
    if errors.is_empty() { Ok(Request { id, devices, parsed }) } else { Err(errors) }
}

fn required<'a>(obj: &'a Map<String, Value>, field: &str, op: &str) -> Result<&'a Value, Vec<FieldError>> {
    obj.get(field).ok_or_else(|| vec![FieldError::new(field, format!("is required for operation \"{op}\""))])
}

fn optional_string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, Vec<FieldError>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 128 => Ok(Some(s.clone())),
        Some(_) => Err(vec![FieldError::new(field, "must be a string of 1–128 characters")]),
    }
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

    fn fields(body: Value) -> Vec<String> {
        parse(&body).err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn every_registry_problem_is_named_by_its_field() {
        assert_eq!(fields(json!({"operation": "explode"})), ["operation"]);
        assert_eq!(fields(json!({"operation": "register"})), ["accelerator"]);
        assert_eq!(fields(json!({"operation": "place"})), ["placement"]);
        assert_eq!(fields(json!({"operation": "list", "colour": 1})), ["colour"]);
        assert_eq!(fields(json!({"operation": "characterize", "adapter": 5})), ["adapter"]);
        let bad = json!({"operation": "register", "accelerator": {
            "id": "t 1", "kind": "quantum", "model": "x", "memory_bytes": 0, "precisions": []}});
        assert_eq!(fields(bad), ["accelerator.kind"]);
        let bad = json!({"operation": "register", "accelerator": {
            "id": "t 1", "kind": "tpu", "model": "x", "memory_bytes": 0, "precisions": []}});
        assert_eq!(fields(bad), ["accelerator.id", "accelerator.memory_bytes", "accelerator.precisions"]);
    }

    #[test]
    fn a_good_body_reads() {
        let r = parse(&json!({"id": "r1", "operation": "characterize", "adapter": "llvmpipe"})).unwrap();
        assert_eq!(r.id.as_deref(), Some("r1"));
        assert!(
            matches!(r.parsed, Parsed::Characterize { node, adapter: Some(a) } if node == "local" && a == "llvmpipe")
        );
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
