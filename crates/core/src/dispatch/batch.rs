//! Batching: small start orders bound for the same node go out as one dispatch, so a burst of
//! tiny tasks costs one round trip per node instead of one per task.

use std::collections::BTreeMap;

use super::execution::StartOrder;

/// Groups `orders` by node, at most `max` per batch, keeping their order within a node.
pub fn batches(orders: Vec<StartOrder>, max: usize) -> Vec<(String, Vec<StartOrder>)> {
    let max = max.max(1);
    let mut by_node: BTreeMap<String, Vec<Vec<StartOrder>>> = BTreeMap::new();
    for o in orders {
        let groups = by_node.entry(o.node.clone()).or_default();
        match groups.last_mut() {
            Some(g) if g.len() < max => g.push(o),
            _ => groups.push(vec![o]),
        }
    }
    by_node.into_iter().flat_map(|(node, groups)| groups.into_iter().map(move |g| (node.clone(), g))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::TaskKind;

    fn order(node: &str, i: u32) -> StartOrder {
        StartOrder {
            attempt_id: format!("e.p{i}.a1"),
            execution_id: "e".into(),
            partition: i,
            node: node.into(),
            kind: TaskKind::Noop,
            argv: vec![],
            resume: None,
            gpus: vec![],
            speculative: false,
        }
    }

    #[test]
    fn one_batch_per_node_up_to_the_limit() {
        let orders = (0..5).map(|i| order(if i % 2 == 0 { "a" } else { "b" }, i)).collect();
        let b = batches(orders, 2);
        let shape: Vec<(String, Vec<u32>)> =
            b.into_iter().map(|(n, g)| (n, g.iter().map(|o| o.partition).collect())).collect();
        assert_eq!(shape, [("a".into(), vec![0, 2]), ("a".into(), vec![4]), ("b".into(), vec![1, 3])]);
    }
}
