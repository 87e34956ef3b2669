//! Writes sampled history (batches from the sampling loop) and runs rollups and retention,
//! remembering how much it wrote and the last failure for the status report.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use steward_core::series::SeriesValue;
use steward_store::RetentionPolicy;

use crate::store_handle::StoreHandle;

pub(crate) struct HistoryWriter {
    store: StoreHandle,
    retention: RetentionPolicy,
    samples_written: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl HistoryWriter {
    pub(crate) fn new(store: StoreHandle, retention: RetentionPolicy) -> HistoryWriter {
        HistoryWriter { store, retention, samples_written: AtomicU64::new(0), last_error: Mutex::new(None) }
    }

    pub(crate) fn write(&self, batch: &[(i64, Vec<SeriesValue>)]) {
        if batch.is_empty() {
            return;
        }
        let result = self
            .store
            .lock()
            .and_then(|mut store| Ok(store.insert_batch(batch.iter().map(|(ts, v)| (*ts, v.as_slice())))?));
        match result {
            Ok(()) => {
                let n: usize = batch.iter().map(|(_, v)| v.len()).sum();
                self.samples_written.fetch_add(n as u64, Ordering::Relaxed);
                self.clear_error();
            }
            Err(e) => self.record_error(format!("writing history failed: {e}")),
        }
    }

    /// Rollups and retention as of `now_ms`.
    pub(crate) fn maintain(&self, now_ms: i64) {
        let result = self.store.lock().and_then(|mut store| Ok(store.maintain(now_ms, &self.retention).map(|_| ())?));
        if let Err(e) = result {
            self.record_error(format!("history maintenance failed: {e}"));
        }
    }

    pub(crate) fn samples_written(&self) -> u64 {
        self.samples_written.load(Ordering::Relaxed)
    }

    /// The last failure, until a write succeeds again.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    fn record_error(&self, message: String) {
        tracing::warn!("{message}");
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(message);
        }
    }

    fn clear_error(&self) {
        if let Ok(mut e) = self.last_error.lock() {
            e.take();
        }
    }
}
