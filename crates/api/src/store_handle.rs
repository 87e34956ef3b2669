//! The history database as the subsystems share it: one connection behind a lock (SQLite
//! serialises writers anyway), handed to each subsystem that reads or writes it.

use std::sync::{Arc, Mutex, MutexGuard};

use steward_store::Store;

use crate::ApiError;

#[derive(Clone)]
pub(crate) struct StoreHandle(Arc<Mutex<Store>>);

impl StoreHandle {
    pub(crate) fn new(store: Store) -> StoreHandle {
        StoreHandle(Arc::new(Mutex::new(store)))
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Store>, ApiError> {
        self.0.lock().map_err(|_| ApiError::Internal("history store lock poisoned".into()))
    }

    /// Runs `f` on the store off the async threads: SQLite calls block.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&mut *store.lock()?))
            .await
            .map_err(|e| ApiError::Internal(format!("store task failed: {e}")))?
    }
}
