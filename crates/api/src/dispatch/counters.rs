//! What the executor has done since the control center started, for `/metrics`: counters only
//! go up, so a scrape's `rate()` tells how busy dispatch is.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub(crate) struct DispatchCounters {
    attempts_started: AtomicU64,
    attempts_succeeded: AtomicU64,
    attempts_failed: AtomicU64,
    cancels_sent: AtomicU64,
}

/// A reading of [`DispatchCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DispatchCounts {
    pub(crate) attempts_started: u64,
    pub(crate) attempts_succeeded: u64,
    pub(crate) attempts_failed: u64,
    pub(crate) cancels_sent: u64,
}

impl DispatchCounters {
    pub(crate) fn started(&self, attempts: usize) {
        self.attempts_started.fetch_add(attempts as u64, Ordering::Relaxed);
    }

    pub(crate) fn ended(&self, succeeded: bool) {
        let c = if succeeded { &self.attempts_succeeded } else { &self.attempts_failed };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cancel_sent(&self) {
        self.cancels_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn read(&self) -> DispatchCounts {
        DispatchCounts {
            attempts_started: self.attempts_started.load(Ordering::Relaxed),
            attempts_succeeded: self.attempts_succeeded.load(Ordering::Relaxed),
            attempts_failed: self.attempts_failed.load(Ordering::Relaxed),
            cancels_sent: self.cancels_sent.load(Ordering::Relaxed),
        }
    }
}
