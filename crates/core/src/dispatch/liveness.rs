//! Which nodes' attempts are lost, and when. A node that was seen up and is no longer
//! reachable (declared down, or its connection dropped) loses what it ran, once; a node that
//! never came back after a restart loses it when the re-attach grace is over. A node seen up
//! again takes new work, while the attempts it lost stay lost (their partitions were retried).
//! Pure: the executor says how each node looks at each pass, with the time.

use std::collections::{BTreeMap, BTreeSet, HashSet};

/// How a node looks to the executor at one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Up and connected: takes new work.
    Up,
    /// Connected but not up (late heartbeats, draining): keeps what it runs, gets nothing new.
    Holding,
    /// Down or disconnected (or unknown to the node source).
    Unreachable,
}

/// How long after the control center started a node it has not seen yet may take to come back
/// before what it ran is declared lost (it may still run it: the executor re-attaches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReattachGrace {
    pub started_ms: i64,
    pub grace_ms: i64,
}

impl ReattachGrace {
    fn is_over(&self, now_ms: i64) -> bool {
        now_ms - self.started_ms > self.grace_ms
    }
}

/// What one pass found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LivenessChange {
    /// Nodes seen up for the first time (since the start, or since they were declared down):
    /// sweep them for tasks this control center no longer runs.
    pub newly_up: Vec<String>,
    /// Nodes declared down now: their running attempts are lost.
    pub lost: Vec<String>,
}

/// The nodes seen up and those declared down, across passes.
#[derive(Debug, Default, Clone)]
pub struct NodeLiveness {
    seen_up: HashSet<String>,
    declared_down: HashSet<String>,
}

impl NodeLiveness {
    /// One pass: `nodes` as the node source has them now, and `running_on`, the nodes of
    /// running attempts (a node the source no longer lists is unreachable). Each node is
    /// looked at once, in id order.
    pub fn observe<'a>(
        &mut self,
        nodes: impl IntoIterator<Item = (&'a str, Reach)>,
        running_on: impl IntoIterator<Item = &'a str>,
        grace: ReattachGrace,
        now_ms: i64,
    ) -> LivenessChange {
        let reach: BTreeMap<&str, Reach> = nodes.into_iter().collect();
        let candidates: BTreeSet<&str> = reach.keys().copied().chain(running_on).collect();
        let mut change = LivenessChange::default();
        for id in candidates {
            let reach = reach.get(id).copied().unwrap_or(Reach::Unreachable);
            if reach == Reach::Up {
                if self.seen_up.insert(id.to_string()) {
                    change.newly_up.push(id.to_string());
                }
                self.declared_down.remove(id);
            }
            let lost = reach == Reach::Unreachable && (self.seen_up.contains(id) || grace.is_over(now_ms));
            if lost && self.declared_down.insert(id.to_string()) {
                self.seen_up.remove(id);
                change.lost.push(id.to_string());
            }
        }
        change
    }

    /// Declared down and not seen up since: nothing is sent there or watched there.
    pub fn is_down(&self, node: &str) -> bool {
        self.declared_down.contains(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: ReattachGrace = ReattachGrace { started_ms: 0, grace_ms: 10_000 };

    fn pass(l: &mut NodeLiveness, nodes: &[(&str, Reach)], running_on: &[&str], now_ms: i64) -> LivenessChange {
        l.observe(nodes.iter().copied(), running_on.iter().copied(), GRACE, now_ms)
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_node_seen_up_that_goes_unreachable_is_lost_once() {
        let mut l = NodeLiveness::default();
        let first = pass(&mut l, &[("a", Reach::Up), ("b", Reach::Up)], &[], 1_000);
        assert_eq!(first, LivenessChange { newly_up: names(&["a", "b"]), lost: vec![] });
        let down = pass(&mut l, &[("a", Reach::Unreachable), ("b", Reach::Up)], &["a"], 2_000);
        assert_eq!(down, LivenessChange { newly_up: vec![], lost: names(&["a"]) });
        assert!(l.is_down("a") && !l.is_down("b"));
        // Still down at the next pass: nothing new to declare.
        assert_eq!(pass(&mut l, &[("a", Reach::Unreachable)], &["a"], 3_000), LivenessChange::default());
    }

    #[test]
    fn a_node_that_leaves_the_source_while_running_work_is_lost() {
        let mut l = NodeLiveness::default();
        pass(&mut l, &[("a", Reach::Up)], &[], 1_000);
        let gone = pass(&mut l, &[], &["a"], 2_000);
        assert_eq!(gone.lost, names(&["a"]));
    }

    #[test]
    fn a_suspect_or_draining_node_keeps_its_work() {
        let mut l = NodeLiveness::default();
        pass(&mut l, &[("a", Reach::Up)], &[], 1_000);
        let held = pass(&mut l, &[("a", Reach::Holding)], &["a"], 60_000);
        assert_eq!(held, LivenessChange::default());
        assert!(!l.is_down("a"));
    }

    #[test]
    fn after_a_restart_an_unseen_node_is_lost_only_when_the_grace_is_over() {
        let mut l = NodeLiveness::default();
        // Attempts loaded running on "a", which has not reconnected yet.
        assert_eq!(pass(&mut l, &[("a", Reach::Unreachable)], &["a"], 10_000), LivenessChange::default());
        assert_eq!(pass(&mut l, &[], &["a"], 10_000), LivenessChange::default(), "at the grace's end, not before");
        assert_eq!(pass(&mut l, &[], &["a"], 10_001).lost, names(&["a"]));
    }

    #[test]
    fn a_node_that_comes_back_is_newly_up_and_may_be_lost_again() {
        let mut l = NodeLiveness::default();
        pass(&mut l, &[("a", Reach::Up)], &[], 1_000);
        pass(&mut l, &[("a", Reach::Unreachable)], &[], 2_000);
        let back = pass(&mut l, &[("a", Reach::Up)], &[], 3_000);
        assert_eq!(back, LivenessChange { newly_up: names(&["a"]), lost: vec![] });
        assert!(!l.is_down("a"));
        assert_eq!(pass(&mut l, &[("a", Reach::Unreachable)], &[], 4_000).lost, names(&["a"]));
    }

    #[test]
    fn nodes_are_looked_at_once_each_in_id_order() {
        let mut l = NodeLiveness::default();
        pass(&mut l, &[("c", Reach::Up), ("a", Reach::Up), ("b", Reach::Up)], &[], 1_000);
        let all_gone = pass(&mut l, &[("c", Reach::Unreachable)], &["b", "a", "b", "c"], 2_000);
        assert_eq!(all_gone.lost, names(&["a", "b", "c"]));
    }
}
