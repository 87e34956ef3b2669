//! The partitioner: splits a task's input into partitions sized by the nodes' capacity.
//!
//! Partitions are equal in size and there are `per_slot` of them per free slot in the cluster,
//! so a fast node simply takes more of them: dynamic assignment balances load, and small
//! partitions keep the cost of a retry or a straggler's speculative copy small.

use super::task::{InputSpec, PartitionInput, TaskSpec};

/// How many partitions `task` gets on a cluster with `slots` task slots in all.
pub fn partition_count(task: &TaskSpec, slots: u32, per_slot: u32) -> u32 {
    let items = match &task.input {
        InputSpec::Range { start, end } => end.saturating_sub(*start),
        InputSpec::Files { files } => files.len() as u64,
        InputSpec::Shards { count } => return *count,
    };
    let wanted =
        task.partitions.unwrap_or_else(|| (slots.max(1) / task.replicas.max(1)).max(1).saturating_mul(per_slot.max(1)));
    (wanted as u64).min(items).max(1) as u32
}

/// Splits `input` into `count` contiguous partitions whose sizes differ by at most one item.
pub fn split(input: &InputSpec, count: u32) -> Vec<PartitionInput> {
    match input {
        InputSpec::Shards { count } => {
            (0..*count).map(|shard| PartitionInput::Shard { shard, count: *count }).collect()
        }
        InputSpec::Range { start, end } => bounds(end - start, count)
            .map(|(a, b)| PartitionInput::Range { start: start + a, end: start + b })
            .collect(),
        InputSpec::Files { files } => bounds(files.len() as u64, count)
            .map(|(a, b)| PartitionInput::Files { files: files[a as usize..b as usize].to_vec() })
            .collect(),
    }
}

/// `count` (clamped to `1..=items`) contiguous, near-equal `[a, b)` spans of `0..items`.
fn bounds(items: u64, count: u32) -> impl Iterator<Item = (u64, u64)> {
    let count = (count as u64).clamp(1, items.max(1));
    let (base, extra) = (items / count, items % count);
    (0..count).map(move |i| {
        let a = i * base + i.min(extra);
        (a, a + base + u64::from(i < extra))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn count_follows_capacity_and_is_bounded_by_items() {
        let t = TaskSpec::new(vec!["x".into()], InputSpec::Range { start: 0, end: 1000 });
        assert_eq!(partition_count(&t, 12, 2), 24);
        let small = TaskSpec::new(vec!["x".into()], InputSpec::Range { start: 0, end: 5 });
        assert_eq!(partition_count(&small, 12, 2), 5);
        let shards = TaskSpec::new(vec!["x".into()], InputSpec::Shards { count: 7 });
        assert_eq!(partition_count(&shards, 100, 2), 7);
    }

    proptest! {
        /// Every item lands in exactly one partition, in order, sizes within one of each other.
        #[test]
        fn ranges_cover_every_item_once(start in 0u64..1000, len in 1u64..5000, count in 1u32..300) {
            let parts = split(&InputSpec::Range { start, end: start + len }, count);
            let mut next = start;
            let sizes: Vec<u64> = parts.iter().map(|p| p.items()).collect();
            for p in &parts {
                let PartitionInput::Range { start: a, end: b } = p else { panic!() };
                prop_assert_eq!(*a, next);
                prop_assert!(b > a);
                next = *b;
            }
            prop_assert_eq!(next, start + len);
            prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
        }

        #[test]
        fn files_are_split_without_loss(n in 1usize..200, count in 1u32..50) {
            let files: Vec<String> = (0..n).map(|i| format!("f{i}")).collect();
            let parts = split(&InputSpec::Files { files: files.clone() }, count);
            let joined: Vec<String> = parts.into_iter().flat_map(|p| match p { PartitionInput::Files { files } => files, _ => vec![] }).collect();
            prop_assert_eq!(joined, files);
        }
    }
}
