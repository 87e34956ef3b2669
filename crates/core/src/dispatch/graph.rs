//! Dependent tasks, evaluated lazily: a task runs only once every task it depends on has
//! succeeded, and (for a lazy task) only once something asks for its result. Asking for a
//! task's result asks for its dependencies' too.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskGraphState {
    Waiting,
    Released,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone)]
struct Node {
    deps: Vec<String>,
    lazy: bool,
    demanded: bool,
    state: TaskGraphState,
}

/// The task graph. Unknown dependencies count as not ready (they may be submitted later).
#[derive(Debug, Clone, Default)]
pub struct TaskGraph {
    nodes: BTreeMap<String, Node>,
    /// Tasks still waiting: the only ones a change can release (most tasks never wait).
    waiting: BTreeSet<String>,
}

impl TaskGraph {
    /// Adds a task; returns the tasks now released to run (possibly itself).
    pub fn add(&mut self, id: &str, deps: Vec<String>, lazy: bool) -> Vec<String> {
        if !self.nodes.contains_key(id) {
            self.nodes.insert(id.to_string(), Node { deps, lazy, demanded: false, state: TaskGraphState::Waiting });
            self.waiting.insert(id.to_string());
        }
        self.release_ready()
    }

    /// Records a known outcome (restored, or reused).
    pub fn set_state(&mut self, id: &str, state: TaskGraphState) {
        if let Some(n) = self.nodes.get_mut(id) {
            n.state = state;
            if state != TaskGraphState::Waiting {
                self.waiting.remove(id);
            }
        }
    }

    pub fn state(&self, id: &str) -> Option<TaskGraphState> {
        self.nodes.get(id).map(|n| n.state)
    }

    /// Records the outcome of a task it did not know (read back from the store: it ended long
    /// ago, or before a restart); returns the tasks this releases.
    pub fn restore(&mut self, id: &str, ok: bool) -> Vec<String> {
        if self.nodes.contains_key(id) {
            return Vec::new();
        }
        let state = if ok { TaskGraphState::Succeeded } else { TaskGraphState::Failed };
        self.nodes.insert(id.to_string(), Node { deps: Vec::new(), lazy: false, demanded: false, state });
        self.release_ready()
    }

    /// Forgets an ended task that no waiting task depends on (its execution left memory; a
    /// later dependent finds its outcome in the store). True when it was forgotten.
    pub fn forget(&mut self, id: &str) -> bool {
        let ended = matches!(self.state(id), Some(TaskGraphState::Succeeded | TaskGraphState::Failed));
        let needed = self.waiting.iter().any(|w| self.nodes[w].deps.iter().any(|d| d == id));
        if !ended || needed {
            return false;
        }
        self.nodes.remove(id);
        true
    }

    /// Tasks the graph knows.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Something asks for `id`'s result: it and everything it needs become demanded.
    pub fn demand(&mut self, id: &str) -> Vec<String> {
        let mut stack = vec![id.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(t) = stack.pop() {
            if !seen.insert(t.clone()) {
                continue;
            }
            if let Some(n) = self.nodes.get_mut(&t) {
                n.demanded = true;
                stack.extend(n.deps.iter().cloned());
            }
        }
        self.release_ready()
    }

    /// A task ended; returns the tasks this releases.
    pub fn completed(&mut self, id: &str, ok: bool) -> Vec<String> {
        self.set_state(id, if ok { TaskGraphState::Succeeded } else { TaskGraphState::Failed });
        self.release_ready()
    }

    /// Waiting tasks whose dependencies all failed or can never run: they fail too.
    pub fn doomed(&self) -> Vec<String> {
        self.waiting
            .iter()
            .filter(|id| self.nodes[*id].deps.iter().any(|d| self.state(d) == Some(TaskGraphState::Failed)))
            .cloned()
            .collect()
    }

    fn release_ready(&mut self) -> Vec<String> {
        let ready: Vec<String> = self
            .waiting
            .iter()
            .filter(|id| {
                let n = &self.nodes[*id];
                (!n.lazy || n.demanded) && n.deps.iter().all(|d| self.state(d) == Some(TaskGraphState::Succeeded))
            })
            .cloned()
            .collect();
        for id in &ready {
            self.set_state(id, TaskGraphState::Released);
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_tasks_wait_for_demand_and_dependencies() {
        let mut g = TaskGraph::default();
        assert_eq!(g.add("a", vec![], true), Vec::<String>::new(), "lazy: nobody asked");
        assert_eq!(g.add("b", vec!["a".into()], true), Vec::<String>::new());
        // Asking for b asks for a; b still waits for a's result.
        assert_eq!(g.demand("b"), ["a"]);
        assert_eq!(g.completed("a", true), ["b"]);
        assert_eq!(g.add("c", vec!["x".into()], false), Vec::<String>::new(), "unknown dependency");
        g.add("x", vec![], false);
        assert_eq!(g.completed("x", false), Vec::<String>::new());
        assert_eq!(g.doomed(), ["c"]);
    }

    #[test]
    fn only_ended_tasks_nothing_waits_on_are_forgotten() {
        let mut g = TaskGraph::default();
        g.add("a", vec![], false);
        assert!(!g.forget("a"), "still running");
        g.completed("a", true);
        g.add("b", vec![], false);
        g.completed("b", true);
        g.add("c", vec!["a".into(), "x".into()], false);
        assert!(!g.forget("a"), "c waits on it");
        assert!(g.forget("b"));
        assert_eq!((g.state("b"), g.len()), (None, 2));
        // Its outcome read back: a dependent submitted later runs.
        g.add("d", vec!["b".into()], false);
        assert_eq!(g.restore("b", true), ["d"]);
        assert_eq!(g.restore("b", false), Vec::<String>::new(), "known now");
    }
}
