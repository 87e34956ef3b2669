//! The planner's I/O: profile each GPU at a few power limits (journaled as one leased change
//! per device, set back when profiling ends), choose per device (core's `planner`), and after
//! applying, measure the outcome.

use std::time::Duration;

use steward_core::power::profiling::{coarse_limits, refine_limits};
use steward_core::power::{
    ChangeState, DevicePlan, DeviceSettings, Knob, Measurement, Objective, Outcome, PlanState, PowerChange, PowerPlan,
    ProfilePoint, Skipped, choose,
};
use steward_telemetry::power_control::ControlError;

use super::PowerManager;
use super::body::{Author, PlanRequest};
use super::changes::ChangeOrder;
use super::target::NodeTarget;
use crate::ApiError;
use crate::clock::now_ms;

/// Settings are measured after this share of the window, so the device has settled.
const SETTLE_SHARE: f64 = 0.2;

/// How every GPU of a plan is profiled.
struct Sweep<'a> {
    objective: Objective,
    points: usize,
    seconds: f64,
    plan_id: &'a str,
    author: &'a Author,
}

/// What profiling needs to know of one GPU.
struct Gpu {
    node: String,
    device: String,
    name: String,
    baseline_w: f64,
    min_w: f64,
}

fn gpu_of(node: &str, d: &DeviceSettings) -> Result<Gpu, String> {
    let k = d.knob(Knob::GpuPowerLimit).ok_or("no power limit")?;
    let baseline_w = k.current.as_deref().and_then(|v| v.parse().ok()).ok_or("its power limit cannot be read")?;
    let min_w = k.min.ok_or("its power limit constraints cannot be read")?;
    Ok(Gpu { node: node.into(), device: d.device.clone(), name: d.name.clone(), baseline_w, min_w })
}

fn watts(w: f64) -> String {
    format!("{}", (w * 1000.0).round() / 1000.0)
}

impl PowerManager {
    /// Profiles the asked-for GPUs and keeps the plan (not applied).
    pub(crate) async fn plan_power(
        &self,
        objective: Objective,
        req: PlanRequest,
        author: &Author,
    ) -> Result<PowerPlan, ApiError> {
        let id = self.new_plan_id();
        let nodes = match &req.nodes {
            Some(n) => n.clone(),
            None => std::iter::once(crate::cluster::LOCAL_NODE.to_string())
                .chain(
                    self.cluster
                        .node_states()
                        .into_iter()
                        .filter(|(_, state, _)| *state != crate::NodeHealth::Down)
                        .map(|(id, _, _)| id),
                )
                .collect(),
        };
        let sweep = Sweep {
            objective,
            points: req.points.unwrap_or(6) as usize,
            seconds: req.profile_seconds.unwrap_or(5.0),
            plan_id: &id,
            author,
        };
        let mut plan = PowerPlan {
            id: id.clone(),
            created_ms: now_ms(),
            objective,
            devices: Vec::new(),
            skipped: Vec::new(),
            reachable: false,
            message: String::new(),
            est_saving_pct: 0.0,
            est_slowdown_pct: 0.0,
            state: PlanState::Planned,
            measured_saving_pct: None,
            measured_slowdown_pct: None,
        };
        let mut found = false;
        for node in &nodes {
            let target = self.power_target(node)?;
            for d in target.settings().await? {
                if d.knob(Knob::GpuPowerLimit).is_none() || req.devices.as_ref().is_some_and(|w| !w.contains(&d.device))
                {
                    continue;
                }
                found = true;
                let skip = |reason: String| Skipped { node: node.clone(), device: d.device.clone(), reason };
                let gpu = match gpu_of(node, &d) {
                    Ok(g) => g,
                    Err(reason) => {
                        plan.skipped.push(skip(reason.to_string()));
                        continue;
                    }
                };
                match self.profile_gpu(&target, &gpu, &sweep).await? {
                    Ok(p) => plan.devices.push(p),
                    Err(reason) => plan.skipped.push(skip(reason)),
                }
            }
        }
        if !found && req.devices.is_some() {
            return Err(ApiError::NotFound(format!("none of the devices {:?} is a GPU on these nodes", req.devices)));
        }
        plan.summarise();
        let p = plan.clone();
        self.store.run(move |store| Ok(store.put_power_plan(&p)?)).await?;
        Ok(plan)
    }

    /// Profiles one GPU: `Err(reason)` when it cannot be profiled (no permission, no progress).
    async fn profile_gpu(
        &self,
        target: &NodeTarget,
        gpu: &Gpu,
        sweep: &Sweep<'_>,
    ) -> Result<Result<DevicePlan, String>, ApiError> {
        let Sweep { objective, points, seconds, plan_id, author } = *sweep;
        let limits = coarse_limits(gpu.min_w, gpu.baseline_w, points);
        let change = PowerChange {
            node: gpu.node.clone(),
            device: gpu.device.clone(),
            knob: Knob::GpuPowerLimit,
            value: watts(limits.last().copied().unwrap_or(gpu.baseline_w)),
        };
        let why =
            format!("profiling for plan {plan_id}: {} limits from {} W down", limits.len() + 2, watts(gpu.baseline_w));
        // One journal row covers the sweep: a crash mid-profile restores the baseline at start.
        let entry = self
            .make_change(
                target,
                ChangeOrder { change: &change, plan_id: None, who: &author.who, why: &why, leased: true },
            )
            .await?;
        if entry.state != ChangeState::Applied {
            return Ok(Err(entry.detail.unwrap_or_else(|| "the power limit could not be changed".into())));
        }
        let swept = self.sweep(target, gpu, objective, limits, seconds).await;
        // Set back whatever happened; the row says how profiling ended.
        self.undo_change(entry, ChangeState::RolledBack, "profiling ended: the limit was set back".into()).await?;
        let profile = match swept? {
            Ok(p) => p,
            Err(reason) => return Ok(Err(reason)),
        };
        let before = profile.first().map(|p| Measurement { throughput: p.throughput, power_w: p.power_w, seconds });
        let (Some(before), Some(choice)) = (before, choose(&profile, gpu.baseline_w, objective)) else {
            return Ok(Err("no progress was measured at the baseline limit: nothing to compare".into()));
        };
        Ok(Ok(DevicePlan {
            node: gpu.node.clone(),
            device: gpu.device.clone(),
            name: gpu.name.clone(),
            baseline_limit_w: gpu.baseline_w,
            choice,
            profile,
            before,
            outcome: None,
        }))
    }

    /// Measures at each coarse limit, then at the refining ones; the baseline's point first.
    async fn sweep(
        &self,
        target: &NodeTarget,
        gpu: &Gpu,
        objective: Objective,
        coarse: Vec<f64>,
        seconds: f64,
    ) -> Result<Result<Vec<ProfilePoint>, String>, ApiError> {
        let mut profile = Vec::new();
        let mut todo = coarse;
        let mut refined = false;
        loop {
            for limit in std::mem::take(&mut todo) {
                match self.measure_at(target, &gpu.device, limit, seconds).await? {
                    Ok(m) => {
                        profile.push(ProfilePoint { limit_w: limit, throughput: m.throughput, power_w: m.power_w });
                    }
                    Err(e) => return Ok(Err(e.to_string())),
                }
            }
            if refined {
                return Ok(Ok(profile));
            }
            todo = refine_limits(&profile, gpu.baseline_w, objective, gpu.min_w);
            refined = true;
        }
    }

    async fn measure_at(
        &self,
        target: &NodeTarget,
        device: &str,
        limit_w: f64,
        seconds: f64,
    ) -> Result<Result<Measurement, ControlError>, ApiError> {
        if let Err(e) = target.set(device, Knob::GpuPowerLimit, &watts(limit_w), false).await? {
            return Ok(Err(e));
        }
        tokio::time::sleep(Duration::from_secs_f64(seconds * SETTLE_SHARE)).await;
        target.measure(device, seconds).await
    }

    /// Applies a plan's settings (leased, journaled under the plan), then measures the outcome.
    pub(crate) async fn apply_plan(
        &self,
        mut plan: PowerPlan,
        measure_seconds: Option<f64>,
        author: &Author,
    ) -> Result<(PowerPlan, Vec<steward_core::power::JournalEntry>), ApiError> {
        if plan.state == PlanState::Applied {
            return Err(ApiError::Conflict(format!("plan {} is applied already; roll it back first", plan.id)));
        }
        let why =
            if author.why.is_empty() { format!("plan {}: {}", plan.id, plan.message) } else { author.why.clone() };
        let mut changes = Vec::new();
        for d in &plan.devices {
            let change = PowerChange {
                node: d.node.clone(),
                device: d.device.clone(),
                knob: Knob::GpuPowerLimit,
                value: watts(d.choice.limit_w),
            };
            let target = self.power_target(&d.node)?;
            let order =
                ChangeOrder { change: &change, plan_id: Some(&plan.id), who: &author.who, why: &why, leased: true };
            changes.push(self.make_change(&target, order).await?);
        }
        if changes.iter().any(|c| c.state == ChangeState::Applied) {
            plan.state = PlanState::Applied;
        }
        for (d, c) in plan.devices.iter_mut().zip(&changes) {
            if c.state != ChangeState::Applied {
                continue;
            }
            let seconds = measure_seconds.unwrap_or(d.before.seconds);
            let target = self.power_target(&d.node)?;
            tokio::time::sleep(Duration::from_secs_f64(seconds * SETTLE_SHARE)).await;
            if let Ok(after) = target.measure(&d.device, seconds).await? {
                d.outcome = Outcome::of(d.before, after);
            }
        }
        plan.summarise();
        let p = plan.clone();
        self.store.run(move |store| Ok(store.put_power_plan(&p)?)).await?;
        Ok((plan, changes))
    }
}
