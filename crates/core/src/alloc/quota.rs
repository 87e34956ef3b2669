//! Owner quotas: the most an owner may hold at once, how much of it is left, and the words that
//! state the limit when a request goes beyond it ("quota of ann: 2 GPUs; asked 3 GPUs").

use super::nodes::Ask;
use super::request::ResourceAmount;

/// GPUs, cores, memory bytes: the three dimensions a quota limits.
fn dims(a: &ResourceAmount) -> [u64; 3] {
    [a.gpus as u64, a.cores as u64, a.memory_bytes]
}

/// A dimension's value in the unit it is stated in (memory in MiB).
fn number(dim: usize, v: u64) -> u64 {
    if dim == 2 { v >> 20 } else { v }
}

fn words(dim: usize, v: u64) -> String {
    let unit = ["GPUs", "cores", "MiB"][dim];
    format!("{} {unit}", number(dim, v))
}

/// What an allocation of size `ask` counts against its owner's quota.
pub(super) fn amount(ask: &Ask) -> ResourceAmount {
    ResourceAmount { gpus: ask.gpus, cores: ask.cores, memory_bytes: ask.mem }
}

/// `None` when `held + asked` stays within `quota`, else the limits passed and what was asked,
/// dimension by dimension: "quota of ann: 2 GPUs (1 held); asked 2 GPUs".
pub(super) fn excess(
    owner: &str,
    quota: &ResourceAmount,
    held: &ResourceAmount,
    asked: &ResourceAmount,
) -> Option<String> {
    let (q, h, k) = (dims(quota), dims(held), dims(asked));
    let over: Vec<usize> = (0..3).filter(|&d| h[d].saturating_add(k[d]) > q[d]).collect();
    if over.is_empty() {
        return None;
    }
    let limits: Vec<String> = over
        .iter()
        .map(|&d| match h[d] {
            0 => words(d, q[d]),
            held => format!("{} ({} held)", words(d, q[d]), number(d, held)),
        })
        .collect();
    let asks: Vec<String> = over.iter().map(|&d| words(d, k[d])).collect();
    Some(format!("quota of {owner}: {}; asked {}", limits.join(", "), asks.join(", ")))
}

/// What is left of `quota` once `held` is counted.
pub(super) fn room(quota: &ResourceAmount, held: &ResourceAmount) -> Ask {
    Ask {
        gpus: quota.gpus.saturating_sub(held.gpus),
        gpu_share: None,
        cores: quota.cores.saturating_sub(held.cores),
        mem: quota.memory_bytes.saturating_sub(held.memory_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(gpus: u32, cores: u32, gib: u64) -> ResourceAmount {
        ResourceAmount { gpus, cores, memory_bytes: gib << 30 }
    }

    #[test]
    fn the_words_state_each_limit_passed_and_what_was_asked() {
        let quota = amount(2, 8, 16);
        assert_eq!(excess("ann", &quota, &amount(0, 0, 0), &amount(2, 8, 16)), None);
        assert_eq!(
            excess("ann", &quota, &amount(0, 0, 0), &amount(3, 4, 1)).as_deref(),
            Some("quota of ann: 2 GPUs; asked 3 GPUs")
        );
        assert_eq!(
            excess("ann", &quota, &amount(1, 6, 1), &amount(2, 4, 1)).as_deref(),
            Some("quota of ann: 2 GPUs (1 held), 8 cores (6 held); asked 2 GPUs, 4 cores")
        );
        assert_eq!(
            excess("ann", &quota, &amount(0, 0, 0), &amount(0, 0, 17)).as_deref(),
            Some("quota of ann: 16384 MiB; asked 17408 MiB")
        );
        assert_eq!(room(&quota, &amount(1, 9, 1)), Ask { gpus: 1, gpu_share: None, cores: 0, mem: 15 << 30 });
    }
}
