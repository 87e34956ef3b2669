//! `POST /resources/accelerators`: analyze a declared workload against the cluster's devices,
//! advise how to make it faster on one, or map many tasks onto the devices (and, with
//! `place`, submit the mapping to the allocation engine).
//!
//! Devices are the allocation engine's GPU slots, at the moment of the request: their
//! availability (free, free at an end time, reserved, held, node down) comes from the
//! scheduler, their figures from profiles supplied with the request, else the published
//! datasheets; a device without figures is listed in `excluded` with why.

pub(crate) mod body;

use std::sync::Arc;

use serde_json::Value;
use steward_core::accel::{DeviceProfile, Fleet, MapTask, TaskAsk, advise, analyze, fleet, placement_request, plan};
use steward_core::alloc::time::format_rfc3339;
use steward_core::alloc::{AllocState, GpuSlot, Scheduler, SlotAvailability};

pub use body::{
    AcceleratorOperation, AcceleratorResult, AcceleratorsResponse, AdviseResult, AnalyzeResult, MapResult,
    MapTaskRequest, PlacedTask,
};

use crate::allocation::{AllocError, Allocations, with_scheduler};
use crate::clock::now_ms;
use body::Parsed;

/// `POST /resources/accelerators`, answered against the allocation engine's devices.
pub(crate) async fn accelerators(
    allocations: Arc<Allocations>,
    body: Value,
) -> Result<AcceleratorsResponse, AllocError> {
    tokio::task::spawn_blocking(move || {
        let request = body::parse(&body).map_err(AllocError::Invalid)?;
        let now = now_ms();
        let request_id = request.id.clone().unwrap_or_else(|| format!("req-{now:x}-{}", std::process::id()));
        let (operation, result) = with_scheduler(&allocations, |sched, _, now| answer(sched, request, now))??;
        Ok(AcceleratorsResponse { request_id, timestamp: format_rfc3339(now), operation, result })
    })
    .await
    .map_err(|e| crate::ApiError::Internal(format!("accelerator task failed: {e}")))?
}

/// One operation against the scheduler's devices; placements are allocated in the same
/// scheduler pass, so they are committed before the answer.
fn answer(
    sched: &mut Scheduler,
    request: body::Request,
    now: i64,
) -> Result<(AcceleratorOperation, AcceleratorResult), AllocError> {
    let slots = sched.gpu_slots(now, None);
    let Fleet { offered, excluded } = fleet(&slots, &request.devices, now);
    let profiles: Vec<DeviceProfile> = offered.iter().map(|s| s.profile.clone()).collect();
    Ok(match request.parsed {
        Parsed::Analyze { workload } => (
            AcceleratorOperation::Analyze,
            AcceleratorResult::Analyze(AnalyzeResult { analysis: analyze(&workload, &profiles, &[]), excluded }),
        ),
        Parsed::Advise { workload, device } => {
            // Advice is about what a device can do, busy or not: every device with figures.
            let any: Vec<GpuSlot> =
                slots.iter().map(|s| GpuSlot { availability: SlotAvailability::Free, ..s.clone() }).collect();
            let Fleet { offered, excluded } = fleet(&any, &request.devices, now);
            let profiles: Vec<DeviceProfile> = offered.into_iter().map(|s| s.profile).collect();
            let target = advised_device(&workload, &profiles, device.as_deref(), &excluded)?;
            let advice = advise(&workload, &target, &profiles);
            let note = advice
                .is_empty()
                .then(|| format!("no change has an estimated gain on {} with what the workload declares", target.id));
            (
                AcceleratorOperation::Advise,
                AcceleratorResult::Advise(AdviseResult { device: target.id, advice, note, excluded }),
            )
        }
        Parsed::Map { tasks, policy, place } => {
            let mapped: Vec<MapTask> =
                tasks.iter().map(|t| MapTask { id: t.id.clone(), workload: t.workload.clone() }).collect();
            let plan = plan(&mapped, &offered, policy, &[]);
            let placed = if place { submit(sched, &plan, &tasks, &slots, now) } else { Vec::new() };
            (AcceleratorOperation::Map, AcceleratorResult::Map(MapResult { plan, excluded, placed }))
        }
    })
}

/// The device named in the request, or the fastest that fits.
fn advised_device(
    workload: &steward_core::accel::Workload,
    profiles: &[DeviceProfile],
    named: Option<&str>,
    excluded: &[steward_core::accel::Excluded],
) -> Result<DeviceProfile, AllocError> {
    if let Some(id) = named {
        if let Some(d) = profiles.iter().find(|d| d.id == id) {
            return Ok(d.clone());
        }
        return Err(match excluded.iter().find(|e| e.device == id) {
            Some(e) => AllocError::Conflict(format!("device {id} cannot be judged: {}", e.reason)),
            None => AllocError::NotFound(format!("no device {id:?}")),
        });
    }
    let fastest = analyze(workload, profiles, &[]).devices.into_iter().find(|d| d.estimate.is_some());
    fastest.and_then(|f| profiles.iter().find(|d| d.id == f.device).cloned()).ok_or_else(|| {
        AllocError::Conflict("no offered device can run this workload: see operation \"analyze\" for why".into())
    })
}

/// Each placement as an allocation pinned to its device, in the mapping's order per device.
fn submit(
    sched: &mut Scheduler,
    plan: &steward_core::accel::MappingPlan,
    tasks: &[MapTaskRequest],
    slots: &[GpuSlot],
    now: i64,
) -> Vec<PlacedTask> {
    let mut order: Vec<_> = plan.placements.iter().collect();
    order.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    order
        .into_iter()
        .filter_map(|p| {
            let slot = slots.iter().find(|s| s.id == p.device)?;
            let t = tasks.iter().find(|t| t.id == p.task)?;
            let ask = TaskAsk {
                owner: t.owner.clone(),
                priority: t.priority,
                cores: t.cores,
                memory_bytes: t.memory_bytes,
                duration_s: t.duration_s,
            };
            let placed = match sched.allocate(placement_request(p, slot, &ask), now) {
                Ok(a) => PlacedTask {
                    task: p.task.clone(),
                    device: p.device.clone(),
                    state: Some(a.state),
                    pending_reason: a.pending_reason.filter(|_| a.state != AllocState::Running),
                    error: None,
                },
                Err(r) => PlacedTask {
                    task: p.task.clone(),
                    device: p.device.clone(),
                    state: None,
                    pending_reason: None,
                    error: Some(r.error),
                },
            };
            Some(placed)
        })
        .collect()
}
