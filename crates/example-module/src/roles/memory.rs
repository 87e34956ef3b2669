//! Memory: a key-value cache of 4 KiB entries, really allocated and touched, serving lookups
//! over a key space twice its full size; a smaller level holds fewer entries (memory given
//! back) and misses more. Goodput is hits.

use steward_module::Criticality;

use super::{Declaration, Rng, Workload, feature, level};
use crate::knobs::Knobs;

const ENTRY: usize = 4096;
const LOOKUPS_PER_STEP: u64 = 2_000;

fn entries(scale_mib: u64, level: u32) -> usize {
    ((scale_mib << 20) >> level) as usize / ENTRY
}

pub fn declaration(scale_mib: u64) -> Declaration {
    let levels = (0..4)
        .map(|l| {
            let bytes = (entries(scale_mib, l) * ENTRY) as u64;
            level(l, format!("{} MiB cache", bytes >> 20), None, Some(bytes))
        })
        .collect();
    Declaration { criticality: Criticality::Normal, features: vec![feature("prefetch", 1)], levels }
}

pub struct Cache {
    scale_mib: u64,
    data: Vec<u8>,
    rng: Rng,
    sink: u64,
}

impl Cache {
    pub fn new(scale_mib: u64) -> Self {
        Cache { scale_mib, data: Vec::new(), rng: Rng::new(7), sink: 0 }
    }

    /// Grows (touching every new page) or shrinks (giving the memory back) to `n` entries.
    fn resize(&mut self, n: usize) {
        let bytes = n * ENTRY;
        if bytes < self.data.len() {
            self.data.truncate(bytes);
            self.data.shrink_to_fit();
        } else if bytes > self.data.len() {
            let from = self.data.len();
            self.data.resize(bytes, 0);
            for (i, page) in self.data[from..].chunks_mut(ENTRY).enumerate() {
                page[0] = (from / ENTRY + i) as u8;
            }
        }
    }
}

impl Workload for Cache {
    fn step(&mut self, knobs: &Knobs) -> u64 {
        let n = entries(self.scale_mib, knobs.level().min(3));
        self.resize(n);
        let key_space = entries(self.scale_mib, 0) * 2;
        let mut hits = 0;
        for _ in 0..LOOKUPS_PER_STEP {
            let key = (self.rng.next() as usize) % key_space.max(1);
            if key < n {
                let entry = &self.data[key * ENTRY..(key + 1) * ENTRY];
                self.sink = self.sink.wrapping_add(entry.iter().step_by(64).map(|&b| u64::from(b)).sum::<u64>());
                hits += 1;
                if knobs.feature_on("prefetch") && key + 1 < n {
                    self.sink ^= u64::from(self.data[(key + 1) * ENTRY]);
                }
            }
        }
        // A cache serves requests; it does not spin on an idle core.
        std::thread::sleep(std::time::Duration::from_millis(2));
        hits
    }
}
