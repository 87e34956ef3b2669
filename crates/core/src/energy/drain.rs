//! Which idle nodes could be powered down: those holding no allocation for at least
//! `min_idle_ms`, most power saved first, always leaving `keep_up` nodes running so new work
//! has somewhere to start while the others wake (as Slurm's power saving keeps a floor).

/// One node as the suggestion sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLoad {
    pub node: String,
    /// Running allocations on it now.
    pub allocations: u32,
    /// Since when it has held none; `None` while it holds some.
    pub idle_since_ms: Option<i64>,
    /// What it draws now, when a meter or model says; `None`: unavailable.
    pub watts: Option<f64>,
}

/// A node worth powering down and what that saves.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerDown {
    pub node: String,
    pub idle_for_ms: i64,
    /// `None` when the node's draw is unavailable: it is still idle, the saving just is not known.
    pub saves_w: Option<f64>,
}

/// The nodes to suggest for power-down at `now_ms`, biggest saving first (unknown savings
/// last, then by name, so the answer is stable).
pub fn power_down_candidates(nodes: &[NodeLoad], now_ms: i64, min_idle_ms: i64, keep_up: usize) -> Vec<PowerDown> {
    let busy = nodes.iter().filter(|n| n.allocations > 0).count();
    let mut idle: Vec<PowerDown> = nodes
        .iter()
        .filter(|n| n.allocations == 0)
        .filter_map(|n| {
            let idle_for_ms = now_ms - n.idle_since_ms?;
            (idle_for_ms >= min_idle_ms).then(|| PowerDown { node: n.node.clone(), idle_for_ms, saves_w: n.watts })
        })
        .collect();
    idle.sort_by(|a, b| {
        let saving = |p: &PowerDown| p.saves_w.unwrap_or(f64::NEG_INFINITY);
        saving(b).total_cmp(&saving(a)).then_with(|| a.node.cmp(&b.node))
    });
    // Nodes already busy count towards the floor; the rest comes from the idle ones kept.
    let up_beyond_busy = keep_up.saturating_sub(busy);
    let kept_from_idle = up_beyond_busy.min(idle.len());
    // Keep the cheapest idle nodes up: drop them from the end of the list.
    idle.truncate(idle.len() - kept_from_idle);
    idle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, allocations: u32, idle_since_ms: Option<i64>, watts: Option<f64>) -> NodeLoad {
        NodeLoad { node: name.into(), allocations, idle_since_ms, watts }
    }

    #[test]
    fn long_idle_nodes_biggest_saving_first() {
        let nodes = [
            node("busy", 2, None, Some(400.0)),
            node("small", 0, Some(0), Some(60.0)),
            node("big", 0, Some(0), Some(300.0)),
            node("unmetered", 0, Some(0), None),
            node("just-freed", 0, Some(9 * 60_000), Some(500.0)),
        ];
        let got = power_down_candidates(&nodes, 10 * 60_000, 5 * 60_000, 1);
        let names: Vec<&str> = got.iter().map(|p| p.node.as_str()).collect();
        assert_eq!(names, ["big", "small", "unmetered"]);
        assert_eq!(got[0].saves_w, Some(300.0));
        assert_eq!(got[0].idle_for_ms, 10 * 60_000);
        assert_eq!(got[2].saves_w, None);
    }

    #[test]
    fn keeps_a_floor_of_nodes_up() {
        let nodes = [node("a", 0, Some(0), Some(100.0)), node("b", 0, Some(0), Some(200.0))];
        // Nothing busy, two must stay up: nothing to power down.
        assert!(power_down_candidates(&nodes, 3_600_000, 0, 2).is_empty());
        // One must stay up: the smaller one stays, the bigger one goes.
        let got = power_down_candidates(&nodes, 3_600_000, 0, 1);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].node, "b");
        // A busy node already meets the floor of one.
        let with_busy = [nodes[0].clone(), nodes[1].clone(), node("c", 1, None, Some(50.0))];
        assert_eq!(power_down_candidates(&with_busy, 3_600_000, 0, 1).len(), 2);
    }
}
