//! What the workload thread and the directive loop share: the quality level, the features
//! on, paused or not, and the work done (the goodput counter).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
pub struct Knobs {
    level: AtomicU32,
    paused: AtomicBool,
    features: Mutex<BTreeSet<String>>,
    done: AtomicU64,
    /// The slowest step since the last report, in µs.
    slowest_us: AtomicU64,
    stopping: AtomicBool,
}

impl Knobs {
    pub fn new(features: impl IntoIterator<Item = String>) -> Self {
        Knobs { features: Mutex::new(features.into_iter().collect()), ..Default::default() }
    }

    pub fn level(&self) -> u32 {
        self.level.load(Ordering::Relaxed)
    }

    pub fn set_level(&self, level: u32) {
        self.level.store(level, Ordering::Relaxed);
    }

    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }

    fn features(&self) -> MutexGuard<'_, BTreeSet<String>> {
        self.features.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn feature_on(&self, name: &str) -> bool {
        self.features().contains(name)
    }

    pub fn set_feature(&self, name: &str, on: bool) {
        if on {
            self.features().insert(name.to_string())
        } else {
            self.features().remove(name)
        };
    }

    pub fn features_on(&self) -> Vec<String> {
        self.features().iter().cloned().collect()
    }

    pub fn count(&self, units: u64) {
        self.done.fetch_add(units, Ordering::Relaxed);
    }

    /// Notes how long one step took.
    pub fn timed(&self, took: std::time::Duration) {
        self.slowest_us.fetch_max(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// The slowest step since the last call, in ms (`None` if none ran): the latency reported.
    pub fn take_latency_ms(&self) -> Option<f64> {
        let us = self.slowest_us.swap(0, Ordering::Relaxed);
        (us > 0).then(|| us as f64 / 1000.0)
    }

    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }
}
