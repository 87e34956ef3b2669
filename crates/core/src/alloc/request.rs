//! What a user asks for: an allocation (resources now, or queued) or a reservation (a future
//! window on named resources), and the checks that turn a request into field-level errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::time::parse_rfc3339;
use crate::accel::Workload;

/// Named priority classes; any integer is allowed, higher = more important.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PriorityClass {
    Critical,
    High,
    Normal,
    Low,
    Scavenger,
}

impl PriorityClass {
    pub const ALL: [PriorityClass; 5] = [
        PriorityClass::Critical,
        PriorityClass::High,
        PriorityClass::Normal,
        PriorityClass::Low,
        PriorityClass::Scavenger,
    ];

    pub fn value(self) -> i32 {
        match self {
            PriorityClass::Critical => 1000,
            PriorityClass::High => 750,
            PriorityClass::Normal => 500,
            PriorityClass::Low => 250,
            PriorityClass::Scavenger => 0,
        }
    }

    /// The class a numeric priority falls in: the highest class at or below it.
    pub fn of(priority: i32) -> PriorityClass {
        Self::ALL.into_iter().find(|c| priority >= c.value()).unwrap_or(PriorityClass::Scavenger)
    }

    pub fn name(self) -> &'static str {
        match self {
            PriorityClass::Critical => "critical",
            PriorityClass::High => "high",
            PriorityClass::Normal => "normal",
            PriorityClass::Low => "low",
            PriorityClass::Scavenger => "scavenger",
        }
    }
}

/// A priority as written in a request: a class name or an integer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum Priority {
    Value(i32),
    Class(PriorityClass),
}

impl Priority {
    pub fn value(self) -> i32 {
        match self {
            Priority::Value(v) => v,
            Priority::Class(c) => c.value(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Qos {
    /// Never shrunk, never preempted.
    Guaranteed,
    /// May be shrunk toward `min`, or preempted by strictly higher priorities.
    #[default]
    Burstable,
    /// First to be shrunk or preempted.
    BestEffort,
}

/// What happens to an allocation chosen as a preemption victim, after its grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PreemptionMode {
    /// Back to the queue, keeping its submission time.
    #[default]
    Requeue,
    /// Stopped and queued to resume when resources free up.
    Suspend,
    /// Ended for good.
    Cancel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PreemptionPolicy {
    #[serde(default)]
    pub mode: PreemptionMode,
    /// Seconds a victim keeps running after being chosen (to checkpoint).
    #[serde(default)]
    #[ts(type = "number")]
    pub grace_s: u64,
}

/// Resources on one node. `gpu_memory_bytes` below a GPU's memory asks for a share of one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ResourceAmount {
    #[serde(default)]
    pub gpus: u32,
    #[serde(default)]
    pub cores: u32,
    #[serde(default)]
    #[ts(type = "number")]
    pub memory_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ResourceAsk {
    #[serde(default)]
    pub gpus: u32,
    /// Per GPU: a fraction of one GPU by memory (with `gpus: 1`); absent = whole GPUs.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub gpu_memory_bytes: Option<u64>,
    #[serde(default)]
    pub cores: u32,
    #[serde(default)]
    #[ts(type = "number")]
    pub memory_bytes: u64,
    /// What the allocation may be shrunk to under pressure (burstable/best-effort only).
    #[serde(default)]
    pub min: Option<ResourceAmount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Constraints {
    /// Node labels that must all match.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Substring of the GPU model name, e.g. `H100`.
    #[serde(default)]
    pub gpu_model: Option<String>,
    /// Accelerator kind the node must have, e.g. `tpu`.
    #[serde(default)]
    pub accelerator_kind: Option<String>,
    /// Run on this node only.
    #[serde(default)]
    pub node: Option<String>,
    /// MIG instances of this profile (e.g. `1g.10gb`), each taken whole: `gpus` counts
    /// instances. Without it, GPUs in MIG mode are never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub mig_profile: Option<String>,
    /// This GPU (or MIG instance) only, by id (`<node>/gpu<index>`): a mapper's placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub gpu: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AllocationRequest {
    /// Idempotency key; generated when absent. Also the allocation's id.
    #[serde(default)]
    pub id: Option<String>,
    pub owner: String,
    pub resources: ResourceAsk,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub qos: Qos,
    /// Seconds; absent = open end (runs until cancelled).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub duration_s: Option<u64>,
    #[serde(default)]
    pub constraints: Constraints,
    /// Run inside this reservation (by id or name).
    #[serde(default)]
    pub reservation: Option<String>,
    #[serde(default)]
    pub preemption: PreemptionPolicy,
    /// Wait in the queue when it cannot start now (default); false = answer "not granted".
    #[serde(default = "yes")]
    pub queue: bool,
    /// What the task will compute, for the accelerator analyzer and mapper (boxed: most
    /// requests have none, and every queued request is kept in memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, as = "Option<Workload>")]
    pub workload: Option<Box<Workload>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReservationFlags {
    /// May overlap other reservations.
    #[serde(default)]
    pub overlap: bool,
    /// Accept resources busy at the start: what runs there is ended before the start.
    #[serde(default)]
    pub ignore_running: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Frequency {
    Daily,
    Weekly,
}

/// Repeats keep their wall-clock start and end in `tz` (so 09:00 stays 09:00 across DST).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Recurrence {
    pub freq: Frequency,
    /// Last possible start (RFC 3339); absent = forever.
    #[serde(default)]
    pub until: Option<String>,
    /// IANA zone, e.g. `Europe/Berlin`.
    pub tz: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReservationRequest {
    /// Idempotency key; generated when absent. Also the reservation's id.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub owner: String,
    pub node: String,
    /// GPU ids (`<node>/gpu<index>`).
    #[serde(default)]
    pub gpus: Vec<String>,
    #[serde(default)]
    pub cores: u32,
    #[serde(default)]
    #[ts(type = "number")]
    pub memory_bytes: u64,
    pub start_time: String,
    pub end_time: String,
    #[serde(default)]
    pub flags: ReservationFlags,
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
}

/// A move or resize of a reservation (drag on the calendar).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReservationChange {
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default)]
    pub gpus: Option<Vec<String>>,
    /// A new name (unique among reservations, like at creation).
    #[serde(default)]
    #[ts(optional)]
    pub name: Option<String>,
    /// A new owner.
    #[serde(default)]
    #[ts(optional)]
    pub owner: Option<String>,
}

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

const MAX_ID_LEN: usize = 128;

fn check_id(prefix: &str, id: &Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(id) = id
        && (id.is_empty() || id.len() > MAX_ID_LEN || id.chars().any(|c| c.is_control() || c == '/' || c == '#'))
    {
        errors.push(FieldError::new(
            format!("{prefix}.id"),
            format!("must be 1–{MAX_ID_LEN} characters without '/', '#' or control characters"),
        ));
    }
}

fn check_owner(prefix: &str, owner: &str, errors: &mut Vec<FieldError>) {
    if owner.trim().is_empty() {
        errors.push(FieldError::new(format!("{prefix}.owner"), "must not be empty"));
    } else if owner.len() > MAX_ID_LEN {
        errors.push(FieldError::new(format!("{prefix}.owner"), format!("must be at most {MAX_ID_LEN} bytes")));
    }
}

impl AllocationRequest {
    /// Every problem with the request, per field (empty when it is valid).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_id(prefix, &self.id, &mut errors);
        check_owner(prefix, &self.owner, &mut errors);
        let r = &self.resources;
        if r.gpus == 0 && r.cores == 0 && r.memory_bytes == 0 {
            errors.push(FieldError::new(
                format!("{prefix}.resources"),
                "asks for nothing: give gpus, cores or memory_bytes",
            ));
        }
        if let Some(share) = r.gpu_memory_bytes {
            if share == 0 {
                errors.push(FieldError::new(format!("{prefix}.resources.gpu_memory_bytes"), "must be above 0"));
            }
            if r.gpus != 1 {
                errors.push(FieldError::new(
                    format!("{prefix}.resources.gpu_memory_bytes"),
                    "a share of GPU memory needs gpus: 1",
                ));
            }
        }
        if let Some(p) = &self.constraints.mig_profile {
            let field = format!("{prefix}.constraints.mig_profile");
            if p.trim().is_empty() {
                errors.push(FieldError::new(field.clone(), "must not be empty"));
            }
            if r.gpu_memory_bytes.is_some() {
                errors.push(FieldError::new(field.clone(), "a MIG instance is taken whole: omit gpu_memory_bytes"));
            }
            if r.gpus == 0 {
                errors.push(FieldError::new(field, "give the number of instances in gpus"));
            }
        }
        if self.constraints.gpu.is_some() && r.gpus != 1 {
            errors.push(FieldError::new(format!("{prefix}.constraints.gpu"), "pins one GPU: give gpus: 1"));
        }
        if let Some(w) = &self.workload {
            errors.extend(w.validate(&format!("{prefix}.workload")));
        }
        if let Some(min) = &r.min {
            if min.gpus > r.gpus || min.cores > r.cores || min.memory_bytes > r.memory_bytes {
                errors.push(FieldError::new(
                    format!("{prefix}.resources.min"),
                    "must not exceed the resources asked for",
                ));
            }
            if self.qos == Qos::Guaranteed
                && (min.gpus, min.cores, min.memory_bytes) != (r.gpus, r.cores, r.memory_bytes)
            {
                errors.push(FieldError::new(
                    format!("{prefix}.resources.min"),
                    "guaranteed allocations are never shrunk",
                ));
            }
        }
        if self.duration_s == Some(0) {
            errors.push(FieldError::new(format!("{prefix}.duration_s"), "must be above 0 (omit it for an open end)"));
        }
        if self.duration_s.is_some_and(|d| d > 10 * 365 * 86_400) {
            errors.push(FieldError::new(
                format!("{prefix}.duration_s"),
                "must be at most ten years (omit it for an open end)",
            ));
        }
        if let Some(p) = self.priority
            && !(-1_000_000..=1_000_000).contains(&p.value())
        {
            errors.push(FieldError::new(format!("{prefix}.priority"), "must be within ±1000000"));
        }
        if self.preemption.grace_s > 86_400 {
            errors.push(FieldError::new(format!("{prefix}.preemption.grace_s"), "must be at most one day"));
        }
        errors
    }

    pub fn priority_value(&self) -> i32 {
        self.priority.map_or(PriorityClass::Normal.value(), Priority::value)
    }
}

/// A reservation request's times, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    pub until_ms: Option<i64>,
}

impl ReservationRequest {
    /// Every problem with the request, per field; the parsed window when there is none.
    pub fn validate(&self, prefix: &str) -> Result<Window, Vec<FieldError>> {
        let mut errors = Vec::new();
        check_id(prefix, &self.id, &mut errors);
        check_owner(prefix, &self.owner, &mut errors);
        if self.node.trim().is_empty() {
            errors.push(FieldError::new(format!("{prefix}.node"), "must not be empty"));
        }
        if self.gpus.is_empty() && self.cores == 0 && self.memory_bytes == 0 {
            errors
                .push(FieldError::new(format!("{prefix}.gpus"), "reserves nothing: give gpus, cores or memory_bytes"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for g in &self.gpus {
            if !seen.insert(g) {
                errors.push(FieldError::new(format!("{prefix}.gpus"), format!("{g} is listed twice")));
            }
        }
        let start = parse_rfc3339(&self.start_time).map_err(|e| FieldError::new(format!("{prefix}.start_time"), e));
        let end = parse_rfc3339(&self.end_time).map_err(|e| FieldError::new(format!("{prefix}.end_time"), e));
        let mut until_ms = None;
        if let Some(rec) = &self.recurrence {
            if super::recurrence::zone(&rec.tz).is_none() {
                errors.push(FieldError::new(
                    format!("{prefix}.recurrence.tz"),
                    format!("unknown time zone {:?}", rec.tz),
                ));
            }
            if let Some(u) = &rec.until {
                match parse_rfc3339(u) {
                    Ok(ms) => until_ms = Some(ms),
                    Err(e) => errors.push(FieldError::new(format!("{prefix}.recurrence.until"), e)),
                }
            }
        }
        match (start, end) {
            (Ok(s), Ok(e)) => {
                if e <= s {
                    errors.push(FieldError::new(format!("{prefix}.end_time"), "must be after start_time"));
                }
                if let Some(rec) = &self.recurrence {
                    let period = match rec.freq {
                        Frequency::Daily => 86_400_000,
                        Frequency::Weekly => 7 * 86_400_000,
                    };
                    if e - s >= period {
                        errors.push(FieldError::new(
                            format!("{prefix}.end_time"),
                            "a repeating window must be shorter than its period",
                        ));
                    }
                    if until_ms.is_some_and(|u| u < s) {
                        errors.push(FieldError::new(
                            format!("{prefix}.recurrence.until"),
                            "must not be before start_time",
                        ));
                    }
                }
                if errors.is_empty() {
                    return Ok(Window { start_ms: s, end_ms: e, until_ms });
                }
            }
            (s, e) => errors.extend([s.err(), e.err()].into_iter().flatten()),
        }
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_classes_map_both_ways() {
        assert_eq!(PriorityClass::of(1000), PriorityClass::Critical);
        assert_eq!(PriorityClass::of(600), PriorityClass::Normal);
        assert_eq!(PriorityClass::of(-5), PriorityClass::Scavenger);
        let p: Priority = serde_json::from_str("\"high\"").unwrap();
        assert_eq!(p.value(), 750);
        let p: Priority = serde_json::from_str("42").unwrap();
        assert_eq!(p.value(), 42);
    }

    #[test]
    fn validation_lists_every_bad_field() {
        let req = ReservationRequest {
            id: Some("a/b".into()),
            name: None,
            owner: " ".into(),
            node: "n".into(),
            gpus: vec![],
            cores: 0,
            memory_bytes: 0,
            start_time: "soon".into(),
            end_time: "2025-01-01T00:00:00Z".into(),
            flags: Default::default(),
            recurrence: None,
        };
        let fields: Vec<String> = req.validate("r").unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["r.id", "r.owner", "r.gpus", "r.start_time"]);
    }
}
