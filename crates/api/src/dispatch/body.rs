//! `POST /resources/distributed`: the body (`operation` distribute | monitor) and the answer
//! shapes the issue specifies.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_core::alloc::FieldError;
use steward_core::dispatch::{ExecStatus, ExecutionReport, NodeStatus, PartitionInput, TaskSpec};
use ts_rs::TS;

use crate::request_body::{from_value, unknown_keys, with_envelope_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DistributedOperation {
    Distribute,
    Monitor,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DistributedResponse {
    /// The request's `id` (generated when it had none).
    pub request_id: String,
    pub timestamp: String,
    pub operation: DistributedOperation,
    pub result: DistributedResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum DistributedResult {
    Distribute(DistributeResult),
    Monitor(MonitorResult),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PlannedPartition {
    pub index: u32,
    pub input: PartitionInput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Assignment {
    pub partition: u32,
    /// `null` when no node can take work right now (it waits for one).
    pub node: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DistributeResult {
    pub task_id: String,
    pub partitions: Vec<PlannedPartition>,
    pub assignments: Vec<Assignment>,
    pub execution_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MonitorResult {
    pub execution_id: String,
    pub status: ExecStatus,
    pub progress: f64,
    pub node_statuses: Vec<NodeStatus>,
    /// Indices of partitions that straggled (and got a speculative copy).
    pub stragglers: Vec<u32>,
    pub report: ExecutionReport,
}

pub(crate) enum Parsed {
    Distribute(Box<TaskSpec>),
    Monitor(String),
}

/// The request id (if given) and the operation, or every problem per field.
pub(crate) fn parse(body: &Value) -> Result<(Option<String>, Parsed), Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("", "the body must be a JSON object")]);
    };
    let envelope = unknown_keys(obj, &["id", "operation", "task", "execution_id"]);
    with_envelope_errors(parse_known(obj), envelope)
}

fn parse_known(obj: &serde_json::Map<String, Value>) -> Result<(Option<String>, Parsed), Vec<FieldError>> {
    let id = crate::envelope::request_id(obj).map_err(|e| vec![e])?;
    let parsed = match obj.get("operation").and_then(Value::as_str) {
        Some("distribute") => {
            let Some(v) = obj.get("task") else {
                return Err(vec![FieldError::new("task", "is required for operation \"distribute\"")]);
            };
            let task: TaskSpec = from_value("task", v)?;
            let errors = task.validate("task");
            if !errors.is_empty() {
                return Err(errors);
            }
            Parsed::Distribute(Box::new(task))
        }
        Some("monitor") => match obj.get("execution_id") {
            Some(Value::String(s)) => Parsed::Monitor(s.clone()),
            _ => return Err(vec![FieldError::new("execution_id", "is required for operation \"monitor\" (a string)")]),
        },
        other => {
            let got = other.map_or_else(|| "nothing".to_string(), |o| format!("{o:?}"));
            return Err(vec![FieldError::new(
                "operation",
                format!("must be \"distribute\" or \"monitor\", got {got}"),
            )]);
        }
    };
    Ok((id, parsed))
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
        assert_eq!(fields(json!({"operation": "monitor"})), ["execution_id"]);
        assert_eq!(fields(json!({"operation": "distribute"})), ["task"]);
        assert_eq!(
            fields(
                json!({"operation": "distribute", "task": {"command": ["x"], "input": {"type": "range", "start": 3, "end": 1}}})
            ),
            ["task.input.end"]
        );
        assert_eq!(
            fields(json!({"operation": "distribute", "task": {"command": ["x"], "input": {"type": "bogus"}}})),
            ["task.input.type"]
        );
        let (id, p) = parse(&json!({"id": "r1", "operation": "monitor", "execution_id": "e"})).unwrap();
        assert_eq!(id.as_deref(), Some("r1"));
        assert!(matches!(p, Parsed::Monitor(e) if e == "e"));
    }
}
