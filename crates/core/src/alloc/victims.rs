//! Choosing preemption victims in the order — lowest highest-victim priority, then fewest
//! victims, then least work lost — across every node, without planning on every node.
//!
//! Per node and per GPU count `g`, [`node_bounds`] gives a lower bound of the best plan's rank
//! from GPUs alone (cores and memory can only make a plan worse). The scheduler keeps these in
//! one ordered index per `g`; a search walks it in bound order, plans exactly on each node, and
//! stops as soon as the next bound cannot beat the best plan found.

/// Lower bound of a node's best plan: (highest victim priority, victims, sum of their start
/// times — larger = less work lost, so the index orders it descending).
pub(crate) type Bound = (i32, u32, i64);

/// A preemptable allocation as the bound sees it: (priority, whole GPUs held, start time).
pub(crate) type Cand = (i32, u32, i64);

/// Bounds for `g` = 1..=`gpus` GPUs on a node with `free` idle GPUs and candidates `cands`
/// (any order); `None` where preempting every candidate would not free `g` GPUs.
pub(crate) fn node_bounds(gpus: u32, free: u32, cands: &mut [Cand]) -> Vec<Option<Bound>> {
    cands.sort_unstable_by_key(|c| c.0);
    let mut out = vec![None; gpus as usize];
    if cands.is_empty() {
        return out;
    }
    let mut held: Vec<u32> = Vec::with_capacity(cands.len());
    let mut starts: Vec<i64> = Vec::with_capacity(cands.len());
    let mut g = 1;
    let mut k = 0;
    while k < cands.len() && g <= gpus {
        // Pool: every candidate at or below this priority level.
        let level = cands[k].0;
        while k < cands.len() && cands[k].0 == level {
            held.push(cands[k].1);
            starts.push(cands[k].2);
            k += 1;
        }
        held.sort_unstable_by(|a, b| b.cmp(a));
        starts.sort_unstable_by(|a, b| b.cmp(a));
        let pool_gpus: u32 = held.iter().sum();
        while g <= gpus && free + pool_gpus >= g {
            let missing = g.saturating_sub(free);
            // Fewest victims for the GPUs: the largest holders first (at least one victim,
            // since a node where the request already fits needs one for cores or memory).
            let mut count = 0u32;
            let mut got = 0u32;
            while got < missing {
                got += held[count as usize];
                count += 1;
            }
            let count = count.max(1);
            let start_sum = starts.iter().take(count as usize).sum();
            out[g as usize - 1] = Some((level, count, start_sum));
            g += 1;
        }
    }
    out
}

/// The subset of `pool` (gains, work lost) that, added to `base`, covers `need` with the fewest
/// members, and among those the least work lost. Exact up to [`EXACT_LIMIT`] members; beyond,
/// greedy (most of what is missing first, then dropping what the others make redundant).
pub(crate) fn fewest_victims(
    pool: &[((u64, u32, u64), i64)],
    base: (u64, u32, u64),
    need: (u64, u32, u64),
) -> Option<Vec<usize>> {
    let add = |a: (u64, u32, u64), b: (u64, u32, u64)| (a.0 + b.0, a.1 + b.1, a.2 + b.2);
    let covers = |h: (u64, u32, u64)| h.0 >= need.0 && h.1 >= need.1 && h.2 >= need.2;
    if !covers(pool.iter().fold(base, |g, p| add(g, p.0))) {
        return None;
    }
    if pool.len() > EXACT_LIMIT {
        return Some(greedy(pool, base, need));
    }
    for k in 1..=pool.len() {
        let mut best: Option<(i64, Vec<usize>)> = None;
        let mut pick = Vec::with_capacity(k);
        combos(pool, k, 0, &mut pick, base, 0, &covers, &mut best);
        if let Some((_, chosen)) = best {
            return Some(chosen);
        }
    }
    None
}

/// [`fewest_victims`] where a pool member may stand for several victims (`weights`: the
/// sharers of one GPU, which frees only when they all go): the fewest victims, then the least
/// work lost. Exact up to [`EXACT_LIMIT`] members (branch and bound over subsets); beyond,
/// greedy as `fewest_victims`.
pub(crate) fn fewest_weighted(
    pool: &[((u64, u32, u64), i64)],
    weights: &[u32],
    base: (u64, u32, u64),
    need: (u64, u32, u64),
) -> Option<Vec<usize>> {
    if weights.iter().all(|&w| w == 1) || pool.len() > EXACT_LIMIT {
        return fewest_victims(pool, base, need);
    }
    let add = |a: (u64, u32, u64), b: (u64, u32, u64)| (a.0 + b.0, a.1 + b.1, a.2 + b.2);
    // What the members from k on could still add, to cut branches that can no longer cover.
    let mut rest = vec![(0, 0, 0); pool.len() + 1];
    for k in (0..pool.len()).rev() {
        rest[k] = add(rest[k + 1], pool[k].0);
    }
    let covers = |h: (u64, u32, u64)| h.0 >= need.0 && h.1 >= need.1 && h.2 >= need.2;
    if !covers(add(base, rest[0])) {
        return None;
    }
    struct Search<'a> {
        pool: &'a [((u64, u32, u64), i64)],
        weights: &'a [u32],
        rest: Vec<(u64, u32, u64)>,
        need: (u64, u32, u64),
        pick: Vec<usize>,
        best: Option<((u32, i64), Vec<usize>)>,
    }
    fn walk(s: &mut Search, k: usize, have: (u64, u32, u64), cost: (u32, i64)) {
        if s.best.as_ref().is_some_and(|b| cost >= b.0) {
            return;
        }
        let n = s.need;
        if have.0 >= n.0 && have.1 >= n.1 && have.2 >= n.2 {
            s.best = Some((cost, s.pick.clone()));
            return;
        }
        let r = s.rest[k];
        if k == s.pool.len() || have.0 + r.0 < n.0 || have.1 + r.1 < n.1 || have.2 + r.2 < n.2 {
            return;
        }
        let (g, l) = s.pool[k];
        s.pick.push(k);
        walk(s, k + 1, (have.0 + g.0, have.1 + g.1, have.2 + g.2), (cost.0 + s.weights[k], cost.1 + l));
        s.pick.pop();
        walk(s, k + 1, have, cost);
    }
    let mut search = Search { pool, weights, rest, need, pick: Vec::new(), best: None };
    walk(&mut search, 0, base, (0, 0));
    search.best.map(|(_, chosen)| chosen)
}

/// Largest pool searched exhaustively (C(16, 8) = 12,870 subsets at worst).
pub(crate) const EXACT_LIMIT: usize = 16;

#[allow(clippy::too_many_arguments)]
fn combos(
    pool: &[((u64, u32, u64), i64)],
    k: usize,
    from: usize,
    pick: &mut Vec<usize>,
    have: (u64, u32, u64),
    lost: i64,
    covers: &dyn Fn((u64, u32, u64)) -> bool,
    best: &mut Option<(i64, Vec<usize>)>,
) {
    if best.as_ref().is_some_and(|b| lost >= b.0) {
        return;
    }
    if pick.len() == k {
        if covers(have) {
            *best = Some((lost, pick.clone()));
        }
        return;
    }
    for i in from..pool.len() {
        if pool.len() - i < k - pick.len() {
            break;
        }
        let (g, l) = pool[i];
        pick.push(i);
        combos(pool, k, i + 1, pick, (have.0 + g.0, have.1 + g.1, have.2 + g.2), lost + l, covers, best);
        pick.pop();
    }
}

fn greedy(pool: &[((u64, u32, u64), i64)], base: (u64, u32, u64), need: (u64, u32, u64)) -> Vec<usize> {
    let gain =
        |chosen: &[usize]| chosen.iter().fold(base, |g, &k| (g.0 + pool[k].0.0, g.1 + pool[k].0.1, g.2 + pool[k].0.2));
    let covers = |h: (u64, u32, u64)| h.0 >= need.0 && h.1 >= need.1 && h.2 >= need.2;
    let mut chosen: Vec<usize> = Vec::new();
    while !covers(gain(&chosen)) {
        let g = gain(&chosen);
        let missing = (need.0.saturating_sub(g.0), need.1.saturating_sub(g.1), need.2.saturating_sub(g.2));
        let part = |got: f64, miss: f64| if miss > 0.0 { got.min(miss) / miss } else { 0.0 };
        let score = |k: usize| {
            let c = pool[k].0;
            part(c.0 as f64, missing.0 as f64) + part(c.1 as f64, missing.1 as f64) + part(c.2 as f64, missing.2 as f64)
        };
        let Some(best) = (0..pool.len())
            .filter(|k| !chosen.contains(k))
            .max_by(|&x, &y| score(x).total_cmp(&score(y)).then(pool[y].1.cmp(&pool[x].1)))
        else {
            break;
        };
        chosen.push(best);
    }
    chosen.sort_by_key(|&k| std::cmp::Reverse(pool[k].1));
    let mut k = 0;
    while k < chosen.len() {
        let without: Vec<usize> = chosen.iter().enumerate().filter(|(j, _)| *j != k).map(|(_, &x)| x).collect();
        if covers(gain(&without)) {
            chosen = without;
        } else {
            k += 1;
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_take_the_lowest_level_then_the_largest_holders() {
        // One idle GPU; priority 0 holds 1+1 GPUs, priority 5 holds 4.
        let mut cands = vec![(5, 4, 100), (0, 1, 10), (0, 1, 20)];
        let b = node_bounds(8, 1, &mut cands);
        assert_eq!(b[0], Some((0, 1, 20))); // fits already: one victim for cores/memory at best
        assert_eq!(b[1], Some((0, 1, 20)));
        assert_eq!(b[2], Some((0, 2, 30)));
        assert_eq!(b[3], Some((5, 1, 100)));
        assert_eq!(b[6], Some((5, 3, 130)));
        assert_eq!(b[7], None);
    }

    #[test]
    fn exact_choice_beats_greedy_on_work_lost() {
        // Need 4 GPUs. Greedy takes the 3-GPU holder (it covers most), then a 2-GPU one: two
        // victims, 10 units of work lost. The two 2-GPU holders are also two victims but lose 2.
        let pool = [((3, 0, 0), 9), ((1, 0, 0), 9), ((2, 0, 0), 1), ((2, 0, 0), 1)];
        let need = (4, 0, 0);
        let lost = |chosen: &[usize]| chosen.iter().map(|&k| pool[k].1).sum::<i64>();
        let greedy_pick = greedy(&pool, (0, 0, 0), need);
        assert_eq!((greedy_pick.len(), lost(&greedy_pick)), (2, 10));
        let chosen = fewest_victims(&pool, (0, 0, 0), need).unwrap();
        assert_eq!((chosen.len(), lost(&chosen)), (2, 2));
    }

    #[test]
    fn weighted_members_count_as_their_victims() {
        // Need 1 GPU: a GPU shared by three (weight 3, little work lost) or a whole-GPU holder
        // (weight 1, more work lost): the single victim wins.
        let pool = [((1, 0, 0), 3), ((1, 0, 0), 90)];
        assert_eq!(fewest_weighted(&pool, &[3, 1], (0, 0, 0), (1, 0, 0)), Some(vec![1]));
        // Equal victims: the least work lost.
        assert_eq!(fewest_weighted(&pool, &[1, 1], (0, 0, 0), (1, 0, 0)), Some(vec![0]));
        assert_eq!(fewest_weighted(&pool, &[2, 2], (0, 0, 0), (2, 0, 0)), Some(vec![0, 1]));
        assert_eq!(fewest_weighted(&pool, &[2, 2], (0, 0, 0), (3, 0, 0)), None);
    }

    #[test]
    fn fewest_victims_first_even_when_they_lose_more() {
        let pool = [((1, 0, 0), 1), ((1, 0, 0), 1), ((2, 0, 0), 50)];
        let chosen = fewest_victims(&pool, (0, 0, 0), (2, 0, 0)).unwrap();
        assert_eq!(chosen, vec![2]);
        assert_eq!(fewest_victims(&pool, (0, 0, 0), (5, 0, 0)), None);
    }
}
