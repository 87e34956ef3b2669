//! `analyze`, `advise` and `map` (with `place: true`, submitted): a declared workload against
//! the allocation engine's GPU slots at the moment of the request. Their availability (free,
//! free at an end time, reserved, held, node down) comes from the scheduler, their figures from
//! profiles supplied with the request, else this machine's stored characterizations (measured
//! beats published, `measured_profiles`), else the published datasheets; a device without
//! figures is listed in `excluded` with why.

use std::sync::Arc;

use steward_core::accel::{
    DeviceProfile, Fleet, MapTask, TaskAsk, advise, analyze, fleet, measured_profile, placement_request, plan,
    published_profile,
};
use steward_core::alloc::{AllocState, GpuSlot, Scheduler, SlotAvailability};

use super::Accelerators;
use super::body::{AcceleratorsResult, AdviseResult, AnalyzeResult, MapResult, MapTaskRequest, Parsed, PlacedTask};
use crate::allocation::{AllocError, with_scheduler};
use crate::cluster::LOCAL_NODE;

/// One workload operation; placements are allocated in the same scheduler pass, so they are
/// committed before the answer.
pub(super) async fn answer(
    a: &Arc<Accelerators>,
    supplied: Vec<DeviceProfile>,
    parsed: Parsed,
) -> Result<AcceleratorsResult, AllocError> {
    let measured = a.store.run(|s| Ok(s.characterizations()?)).await?;
    let a = a.clone();
    tokio::task::spawn_blocking(move || {
        with_scheduler(&a.allocations, |sched, _, now| {
            let slots = sched.gpu_slots(now, None);
            let devices = with_measured(supplied, &measured, &slots);
            on_scheduler(sched, &devices, parsed, now)
        })?
    })
    .await
    .map_err(|e| crate::ApiError::Internal(format!("accelerator task failed: {e}")))?
}

/// The supplied profiles, then one per slot of this machine whose adapter was characterized
/// (the datasheet's figures with the measured ones in their place), unless one was supplied.
fn with_measured(
    mut devices: Vec<DeviceProfile>,
    measured: &[steward_core::accel::Characterization],
    slots: &[GpuSlot],
) -> Vec<DeviceProfile> {
    for c in measured.iter().filter(|c| c.node == LOCAL_NODE) {
        let Some(gpu) = &c.nvml else { continue };
        let id = format!("{LOCAL_NODE}/gpu{}", gpu.index);
        let Some(slot) = slots.iter().find(|s| s.id == id) else { continue };
        if devices.iter().any(|d| d.id == id) {
            continue;
        }
        let published = published_profile(&slot.id, &slot.node, &slot.name, slot.memory_bytes);
        if let Some(p) = measured_profile(c, &slot.id, &slot.name, slot.memory_bytes, published) {
            devices.push(p);
        }
    }
    devices
}

/// One operation against the scheduler's devices; placements are allocated in the same
/// scheduler pass, so they are committed before the answer.
fn on_scheduler(
    sched: &mut Scheduler,
    devices: &[DeviceProfile],
    parsed: Parsed,
    now: i64,
) -> Result<AcceleratorsResult, AllocError> {
    let slots = sched.gpu_slots(now, None);
    let Fleet { offered, excluded } = fleet(&slots, devices, now);
    let profiles: Vec<DeviceProfile> = offered.iter().map(|s| s.profile.clone()).collect();
    Ok(match parsed {
        Parsed::Analyze { workload } => {
            AcceleratorsResult::Analyze(AnalyzeResult { analysis: analyze(&workload, &profiles, &[]), excluded })
        }
        Parsed::Advise { workload, device } => {
            // Advice is about what a device can do, busy or not: every device with figures.
            let any: Vec<GpuSlot> =
                slots.iter().map(|s| GpuSlot { availability: SlotAvailability::Free, ..s.clone() }).collect();
            let Fleet { offered, excluded } = fleet(&any, devices, now);
            let profiles: Vec<DeviceProfile> = offered.into_iter().map(|s| s.profile).collect();
            let target = advised_device(&workload, &profiles, device.as_deref(), &excluded)?;
            let advice = advise(&workload, &target, &profiles);
            let note = advice
                .is_empty()
                .then(|| format!("no change has an estimated gain on {} with what the workload declares", target.id));
            AcceleratorsResult::Advise(AdviseResult { device: target.id, advice, note, excluded })
        }
        Parsed::Map { tasks, policy, place } => {
            let mapped: Vec<MapTask> =
                tasks.iter().map(|t| MapTask { id: t.id.clone(), workload: t.workload.clone() }).collect();
            let plan = plan(&mapped, &offered, policy, &[]);
            let placed = if place { submit(sched, &plan, &tasks, &slots, now) } else { Vec::new() };
            AcceleratorsResult::Map(MapResult { plan, excluded, placed })
        }
        Parsed::List | Parsed::Register(_) | Parsed::Characterize { .. } | Parsed::Place(_) => {
            unreachable!("accelerators() answers the registry operations itself")
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
