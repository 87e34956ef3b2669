//! What a user dispatches: a command template, an input description the partitioner splits, and
//! the knobs for placement and fault tolerance. Validation turns a task into field errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::output::OutputLimits;
use crate::accel::Workload;
use crate::alloc::{FieldError, Priority};

/// How a partition runs on an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TaskKind {
    /// A process started from the expanded command.
    #[default]
    Process,
    /// Acknowledged by the agent without starting anything: measures the dispatch machinery.
    Noop,
}

/// The work to split. `range` items are `start..end`; `files` are split into contiguous groups;
/// `shards` runs one partition per shard.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum InputSpec {
    Range {
        #[ts(type = "number")]
        start: u64,
        #[ts(type = "number")]
        end: u64,
    },
    Files {
        files: Vec<String>,
    },
    Shards {
        count: u32,
    },
}

/// One partition's share of the input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum PartitionInput {
    Range {
        #[ts(type = "number")]
        start: u64,
        #[ts(type = "number")]
        end: u64,
    },
    Files {
        files: Vec<String>,
    },
    Shard {
        shard: u32,
        count: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TaskSpec {
    /// Generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// argv template. `{start}` `{end}` (range), `{shard}` `{shards}`, `{partition}`; an
    /// argument that is exactly `{files}` becomes one argument per file of the partition.
    #[serde(default)]
    pub command: Vec<String>,
    pub input: InputSpec,
    #[serde(default)]
    pub kind: TaskKind,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Per partition.
    #[serde(default = "one")]
    pub cores: u32,
    #[serde(default)]
    #[ts(type = "number")]
    pub memory_bytes: u64,
    #[serde(default)]
    pub gpus: u32,
    #[serde(default)]
    #[ts(type = "number | null")]
    pub timeout_s: Option<u64>,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Partition count; absent = sized by the nodes' capacity.
    #[serde(default)]
    pub partitions: Option<u32>,
    /// A registered dataset the partitions read (placement prefers nodes holding it).
    #[serde(default)]
    pub dataset: Option<String>,
    /// Copies of every partition run at once on distinct nodes (critical tasks); first success wins.
    #[serde(default = "one")]
    pub replicas: u32,
    /// Reuse the result of a finished task with the same command and inputs.
    #[serde(default = "yes")]
    pub reuse: bool,
    /// Launch a speculative copy of stragglers.
    #[serde(default = "yes")]
    pub speculation: bool,
    /// Tasks whose results this one needs; it runs only once they succeeded.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Run only when something asks for the result (monitor, or a dependent that runs).
    #[serde(default)]
    pub lazy: bool,
    /// Attempts per partition before the task fails.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Output kept per partition as its result; the executor fills in its defaults for what is
    /// absent, so an execution shows the limits it ran with.
    #[serde(default)]
    pub output: Option<OutputLimits>,
    /// Queue the task even when no node can take work now (otherwise it is refused, with why).
    #[serde(default)]
    pub wait: bool,
    /// What each partition will compute, for the accelerator analyzer and mapper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub workload: Option<Workload>,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

const MAX_PARTITIONS: u32 = 100_000;

impl TaskSpec {
    /// A task with defaults, for tests and benchmarks.
    pub fn new(command: Vec<String>, input: InputSpec) -> TaskSpec {
        TaskSpec {
            id: None,
            command,
            input,
            kind: TaskKind::Process,
            env: BTreeMap::new(),
            working_dir: None,
            cores: 1,
            memory_bytes: 0,
            gpus: 0,
            timeout_s: None,
            priority: None,
            partitions: None,
            dataset: None,
            replicas: 1,
            reuse: true,
            speculation: true,
            depends_on: Vec::new(),
            lazy: false,
            max_attempts: None,
            output: None,
            wait: false,
            workload: None,
        }
    }

    /// Every problem, per field (empty when valid).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut err = |f: &str, m: &str| errors.push(FieldError::new(format!("{prefix}.{f}"), m));
        if let Some(id) = &self.id
            && (id.is_empty() || id.len() > 128 || id.chars().any(|c| c.is_control() || "/#.".contains(c)))
        {
            err("id", "must be 1–128 characters without '/', '#', '.' or control characters");
        }
        if self.kind == TaskKind::Process && self.command.first().is_none_or(String::is_empty) {
            err("command", "must name a program (a non-empty argv)");
        }
        match &self.input {
            InputSpec::Range { start, end } if end <= start => err("input.end", "must be above start"),
            InputSpec::Files { files } if files.is_empty() => err("input.files", "must not be empty"),
            InputSpec::Shards { count } if *count == 0 || *count > MAX_PARTITIONS => {
                err("input.count", "must be 1–100000");
            }
            _ => {}
        }
        if self.partitions.is_some_and(|p| p == 0 || p > MAX_PARTITIONS) {
            err("partitions", "must be 1–100000");
        }
        if self.replicas == 0 || self.replicas > 16 {
            err("replicas", "must be 1–16");
        }
        if self.max_attempts == Some(0) {
            err("max_attempts", "must be at least 1");
        }
        if self.timeout_s == Some(0) {
            err("timeout_s", "must be above 0 (omit it for none)");
        }
        if self.depends_on.iter().any(|d| Some(d) == self.id.as_ref()) {
            err("depends_on", "a task cannot depend on itself");
        }
        if let Some(o) = &self.output {
            errors.extend(o.validate(&format!("{prefix}.output")));
        }
        if let Some(w) = &self.workload {
            errors.extend(w.validate(&format!("{prefix}.workload")));
        }
        errors
    }

    /// The argv of one partition.
    pub fn argv(&self, index: u32, input: &PartitionInput) -> Vec<String> {
        let mut out = Vec::with_capacity(self.command.len());
        for arg in &self.command {
            if arg == "{files}" {
                if let PartitionInput::Files { files } = input {
                    out.extend(files.iter().cloned());
                }
                continue;
            }
            if !arg.contains('{') {
                out.push(arg.clone());
                continue;
            }
            let mut a = arg.replace("{partition}", &index.to_string());
            match input {
                PartitionInput::Range { start, end } => {
                    a = a.replace("{start}", &start.to_string()).replace("{end}", &end.to_string());
                }
                PartitionInput::Shard { shard, count } => {
                    a = a.replace("{shard}", &shard.to_string()).replace("{shards}", &count.to_string());
                }
                PartitionInput::Files { files } => a = a.replace("{files}", &files.join(" ")),
            }
            out.push(a);
        }
        out
    }

    /// Most attempts a partition gets.
    pub fn attempt_limit(&self, default: u32) -> u32 {
        self.max_attempts.unwrap_or(default).max(1)
    }
}

impl PartitionInput {
    /// Items in this partition (range items, files, or 1 shard).
    pub fn items(&self) -> u64 {
        match self {
            PartitionInput::Range { start, end } => end - start,
            PartitionInput::Files { files } => files.len() as u64,
            PartitionInput::Shard { .. } => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_expands_placeholders_and_file_lists() {
        let mut t = TaskSpec::new(
            vec!["sh".into(), "-c".into(), "seq {start} {end} # p{partition}".into(), "{files}".into()],
            InputSpec::Shards { count: 2 },
        );
        assert_eq!(t.argv(3, &PartitionInput::Range { start: 5, end: 9 }), ["sh", "-c", "seq 5 9 # p3"]);
        t.command = vec!["wc".into(), "{files}".into()];
        assert_eq!(t.argv(0, &PartitionInput::Files { files: vec!["a".into(), "b c".into()] }), ["wc", "a", "b c"]);
    }

    #[test]
    fn validation_names_each_bad_field() {
        let mut t = TaskSpec::new(vec![], InputSpec::Range { start: 4, end: 4 });
        t.replicas = 0;
        t.id = Some("a/b".into());
        let fields: Vec<_> = t.validate("task").into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["task.id", "task.command", "task.input.end", "task.replicas"]);
        t.kind = TaskKind::Noop;
        t.id = None;
        t.replicas = 2;
        t.input = InputSpec::Range { start: 0, end: 1 };
        assert!(t.validate("task").is_empty());
    }
}
