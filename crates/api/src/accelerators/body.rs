//! `POST /resources/accelerators`: the body (`operation` list | register | characterize |
//! place) and the answer, in the envelope every `/resources/*` endpoint shares.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use steward_core::accel::{AcceleratorSpec, Characterization, GpuInfo, GpuLink};
use steward_core::alloc::FieldError;
use steward_core::cluster::NodeHealth;
use steward_core::{Adapter, Reading};
use ts_rs::TS;

use crate::AllocateResult;
use crate::envelope;
use crate::request_body::{from_value, unknown_keys, with_envelope_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AcceleratorOperation {
    List,
    Register,
    Characterize,
    Place,
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
pub struct Placement {
    pub allocation_id: String,
    pub node: String,
    /// A GPU of that node (`node/gpuN`); its model becomes a constraint.
    #[serde(default)]
    #[ts(optional)]
    pub gpu: Option<String>,
}

pub(crate) enum Parsed {
    List,
    Register(Box<AcceleratorSpec>),
    /// Adapters whose name contains the filter (all when `None`), on `node`.
    Characterize {
        node: String,
        adapter: Option<String>,
    },
    Place(Placement),
}

impl Parsed {
    pub fn operation(&self) -> AcceleratorOperation {
        match self {
            Parsed::List => AcceleratorOperation::List,
            Parsed::Register(_) => AcceleratorOperation::Register,
            Parsed::Characterize { .. } => AcceleratorOperation::Characterize,
            Parsed::Place(_) => AcceleratorOperation::Place,
        }
    }
}

const OPERATIONS: [&str; 4] = ["list", "register", "characterize", "place"];

/// The request id (if given) and the operation, or every problem per field.
pub(crate) fn parse(body: &Value) -> Result<(Option<String>, Parsed), Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("", "the body must be a JSON object")]);
    };
    let known = ["id", "operation", "accelerator", "node", "adapter", "placement"];
    with_envelope_errors(parse_known(obj), unknown_keys(obj, &known))
}

fn parse_known(obj: &Map<String, Value>) -> Result<(Option<String>, Parsed), Vec<FieldError>> {
    let id = envelope::request_id(obj).map_err(|e| vec![e])?;
    let parsed = match envelope::operation(obj, "operation", &OPERATIONS).map_err(|e| vec![e])? {
        "list" => Parsed::List,
        "register" => {
            let v = required(obj, "accelerator", "register")?;
            let spec: AcceleratorSpec = from_value("accelerator", v)?;
            let errors = spec.validate("accelerator");
            if !errors.is_empty() {
                return Err(errors);
            }
            Parsed::Register(Box::new(spec))
        }
        "characterize" => Parsed::Characterize {
            node: optional_string(obj, "node")?.unwrap_or_else(|| crate::cluster::LOCAL_NODE.into()),
            adapter: optional_string(obj, "adapter")?,
        },
        _ => Parsed::Place(from_value("placement", required(obj, "placement", "place")?)?),
    };
    Ok((id, parsed))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(body: Value) -> Vec<String> {
        parse(&body).err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
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
        let (id, p) = parse(&json!({"id": "r1", "operation": "characterize", "adapter": "llvmpipe"})).unwrap();
        assert_eq!(id.as_deref(), Some("r1"));
        assert!(matches!(p, Parsed::Characterize { node, adapter: Some(a) } if node == "local" && a == "llvmpipe"));
    }
}
