//! Placing a pending allocation onto an accelerator (a drag in the view): the same request,
//! pinned to the node (and the GPU's model), goes through the scheduler without queueing;
//! granted, it replaces the pending one, refused, the pending one stays and the refusal says why.

use steward_core::alloc::{AllocState, AllocationRequest};

use std::sync::Arc;

use super::body::PlaceAllocation;
use super::inventory::invalid;
use crate::AllocateResult;
use crate::ApiError;
use crate::allocation::{Allocations, with_scheduler};

/// Ids stay within the allocation id limit (128) with the suffix.
const KEPT_ID_CHARS: usize = 96;

pub(super) async fn place(allocations: Arc<Allocations>, p: PlaceAllocation) -> Result<AllocateResult, ApiError> {
    tokio::task::spawn_blocking(move || {
        with_scheduler(&allocations, |sched, _, now| {
            let pending = sched
                .allocation(&p.allocation_id)
                .cloned()
                .ok_or_else(|| ApiError::NotFound(format!("no allocation {:?}", p.allocation_id)))?;
            if pending.state != AllocState::Pending {
                return Err(invalid(
                    "placement.allocation_id",
                    format!(
                        "allocation {:?} is {:?}, not pending: only waiting work can be placed",
                        pending.id, pending.state
                    ),
                ));
            }
            let node = sched
                .nodes()
                .find(|n| n.node == p.node)
                .ok_or_else(|| ApiError::NotFound(format!("no node {:?} takes allocations", p.node)))?;
            let model = match &p.gpu {
                None => None,
                Some(gpu) => Some(
                    node.gpus
                        .iter()
                        .find(|g| &g.id == gpu)
                        .map(|g| g.name.clone())
                        .ok_or_else(|| ApiError::NotFound(format!("no GPU {gpu:?} on node {:?}", p.node)))?,
                ),
            };
            let req = pinned(&pending.request, &p.node, model, now);
            Ok(match sched.allocate(req, now) {
                Ok(placed) if placed.state == AllocState::Running => {
                    sched.cancel(&pending.id, now);
                    AllocateResult::allocation(&placed)
                }
                Ok(waiting) => {
                    sched.cancel(&waiting.id, now);
                    refused(waiting.pending_reason.unwrap_or_else(|| "it would have to wait".into()))
                }
                Err(refusal) => AllocateResult::refused(refusal),
            })
        })?
    })
    .await
    .map_err(|e| ApiError::Internal(format!("placement failed: {e}")))?
}

/// The pending request, pinned to `node` (and a GPU model), answered now or refused.
fn pinned(request: &AllocationRequest, node: &str, gpu_model: Option<String>, now: i64) -> AllocationRequest {
    let mut req = request.clone();
    let id = req.id.as_deref().unwrap_or("allocation");
    let kept: String = id.chars().take(KEPT_ID_CHARS).collect();
    req.id = Some(format!("{kept}-placed-{now:x}"));
    req.constraints.node = Some(node.to_string());
    if gpu_model.is_some() {
        req.constraints.gpu_model = gpu_model;
    }
    req.queue = false;
    req
}

fn refused(error: String) -> AllocateResult {
    AllocateResult { success: false, error: Some(error), ..Default::default() }
}
