//! The engine's hold on allocations of some QoS classes (`suspend_allocations` steps in force),
//! carried to the allocation engine, which suspends those running and keeps those queued.

use steward_core::degrade::{AllocationHold, Engine};
use steward_store::Store;

use super::Degradation;
use crate::ApiError;

/// The hold the steps kept in the store call for: the allocation engine starts with it, so
/// nothing held starts between a restart and the first check.
pub(crate) fn kept(store: &Store) -> Result<AllocationHold, ApiError> {
    Ok(Engine::restore(store.degradation_state()?.groups, vec![]).allocation_hold())
}

/// Sends `hold` to the allocation engine unless it is what it was last sent.
pub(super) fn apply(d: &Degradation, hold: AllocationHold) -> Result<(), ApiError> {
    let mut sent = d.hold_sent.lock().map_err(|_| ApiError::Internal("hold lock poisoned".into()))?;
    if *sent == hold {
        return Ok(());
    }
    crate::allocation::set_hold(&d.ctx.allocations, hold.clone())?;
    *sent = hold;
    Ok(())
}
