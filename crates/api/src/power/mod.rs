//! The power manager and planner, and the one handler of `POST /resources/energy`: `monitor`
//! goes to the energy monitor (`crate::energy`), `plan`, `apply`, `rollback` and `journal` are
//! answered here. Every change is journaled before it is made (`changes.rs`), on this machine or
//! through the node's agent (`target.rs`); plans profile each GPU and choose its power limit
//! (`planning.rs`). Changes are leased to the control center that made them: the next start
//! sets back every leased change still in effect (`restore.rs`), since that means the one
//! before died while they were applied.

mod body;
mod changes;
mod planning;
mod restore;
mod target;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use steward_core::alloc::time::format_rfc3339;
use steward_core::power::{ChangeState, PlanState};
use steward_telemetry::power_control::PowerControl;

pub use body::{
    ApplyRequest, ChangesResult, EnergyOperation, EnergyResponse, EnergyResult, JournalResult, PlanRequest,
    RollbackRequest,
};
use body::{Author, Parsed};
use changes::ChangeOrder;

use crate::clock::now_ms;
use crate::cluster::Cluster;
use crate::energy::EnergyMeter;
use crate::stop_signal::StopSignal;
use crate::store_handle::StoreHandle;
use crate::{ApiConfig, ApiError};

/// The power manager: this machine's knobs, the handles it uses (the journal in the store; the
/// cluster for agents' clients, node states and the runtime agent calls run on), and one
/// operation at a time (two plans profiling the same GPU would measure each other's limits).
pub(crate) struct PowerManager {
    pub(crate) local: Arc<PowerControl>,
    store: StoreHandle,
    cluster: Arc<Cluster>,
    /// The energy monitor, which answers `monitor` in the same envelope.
    meter: Arc<EnergyMeter>,
    stop: StopSignal,
    busy: tokio::sync::Mutex<()>,
    next_id: AtomicU64,
}

impl PowerManager {
    pub(crate) fn new(
        config: &ApiConfig,
        store: StoreHandle,
        cluster: Arc<Cluster>,
        meter: Arc<EnergyMeter>,
        stop: StopSignal,
    ) -> PowerManager {
        PowerManager {
            local: Arc::new(PowerControl::new(config.sampler.root.clone(), config.sampler.nvml_lib.as_deref())),
            store,
            cluster,
            meter,
            stop,
            busy: tokio::sync::Mutex::new(()),
            next_id: AtomicU64::new(0),
        }
    }

    fn new_plan_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("plan-{:x}{:x}{n}", now_ms(), std::process::id())
    }
}

pub(crate) use restore::spawn_restore;

impl PowerManager {
    /// `POST /resources/energy`.
    pub(crate) async fn energy(&self, body: Value) -> Result<EnergyResponse, ApiError> {
        let (id, author, parsed) = body::parse(&body).map_err(ApiError::InvalidFields)?;
        let request_id = id.unwrap_or_else(|| format!("req-{:x}", now_ms()));
        // The monitor only reads; the rest wait for each other.
        let _one_at_a_time = match parsed {
            Parsed::Monitor(_) => None,
            _ => Some(self.busy.lock().await),
        };
        let (operation, result) = match parsed {
            Parsed::Monitor(node) => (EnergyOperation::Monitor, EnergyResult::Monitor(self.meter.monitor(node).await?)),
            Parsed::Plan(objective, req) => {
                (EnergyOperation::Plan, EnergyResult::Plan(self.plan_power(objective, req, &author).await?))
            }
            Parsed::Apply(req) => {
                (EnergyOperation::Apply, EnergyResult::Changes(self.apply_power(req, &author).await?))
            }
            Parsed::Rollback(req) => {
                (EnergyOperation::Rollback, EnergyResult::Changes(self.rollback_power(req, &author).await?))
            }
            Parsed::Journal(limit) => {
                (EnergyOperation::Journal, EnergyResult::Journal(self.power_journal(limit).await?))
            }
        };
        Ok(EnergyResponse { request_id, timestamp: format_rfc3339(now_ms()), operation, result })
    }

    async fn apply_power(&self, req: ApplyRequest, author: &Author) -> Result<ChangesResult, ApiError> {
        if let Some(change) = &req.change {
            let target = self.power_target(&change.node)?;
            if req.dry_run {
                self.current_value(&target, change).await?;
                let answer = match target.set(&change.device, change.knob, &change.value, true).await? {
                    Ok(()) => format!(
                        "would set {} of {} on {} to {}; it can",
                        change.knob.as_str(),
                        change.device,
                        change.node,
                        change.value
                    ),
                    Err(e) => e.to_string(),
                };
                return Ok(ChangesResult { changes: Vec::new(), plan: None, dry_run: vec![answer] });
            }
            let order = ChangeOrder { change, plan_id: None, who: &author.who, why: &author.why, leased: !req.keep };
            let entry = self.make_change(&target, order).await?;
            let dry_run = entry.detail.iter().filter(|_| entry.state == ChangeState::Denied).cloned().collect();
            return Ok(ChangesResult { changes: vec![entry], plan: None, dry_run });
        }
        let plan = self.stored_plan(req.plan_id.clone().unwrap_or_default()).await?;
        if req.dry_run {
            let lines = plan
                .devices
                .iter()
                .map(|d| format!("would set the power limit of {} on {} to {} W", d.device, d.node, d.choice.limit_w))
                .collect();
            return Ok(ChangesResult { changes: Vec::new(), plan: Some(plan), dry_run: lines });
        }
        let (plan, changes) = self.apply_plan(plan, req.measure_seconds, author).await?;
        let dry_run =
            changes.iter().filter(|c| c.state == ChangeState::Denied).filter_map(|c| c.detail.clone()).collect();
        Ok(ChangesResult { changes, plan: Some(plan), dry_run })
    }

    async fn stored_plan(&self, id: String) -> Result<steward_core::power::PowerPlan, ApiError> {
        let i = id.clone();
        self.store
            .run(move |store| Ok(store.power_plan(&i)?))
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no plan {id:?}")))
    }

    async fn rollback_power(&self, req: RollbackRequest, author: &Author) -> Result<ChangesResult, ApiError> {
        let detail = format!(
            "rolled back by {}{}",
            author.who,
            if author.why.is_empty() { String::new() } else { format!(": {}", author.why) }
        );
        if let Some(id) = req.change_id {
            let entry = self
                .store
                .run(move |store| Ok(store.power_change(id)?))
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no journaled change {id}")))?;
            let entry = self.undo_change(entry, ChangeState::RolledBack, detail).await?;
            return Ok(ChangesResult { changes: vec![entry], plan: None, dry_run: Vec::new() });
        }
        let mut plan = self.stored_plan(req.plan_id.clone().unwrap_or_default()).await?;
        let pid = plan.id.clone();
        let entries = self.store.run(move |store| Ok(store.plan_changes(&pid)?)).await?;
        let mut changes = Vec::with_capacity(entries.len());
        // Newest first: a device changed twice ends at its value before the first change.
        for entry in entries.into_iter().rev() {
            changes.push(self.undo_change(entry, ChangeState::RolledBack, detail.clone()).await?);
        }
        changes.reverse();
        plan.state = PlanState::RolledBack;
        let p = plan.clone();
        self.store.run(move |store| Ok(store.put_power_plan(&p)?)).await?;
        Ok(ChangesResult { changes, plan: Some(plan), dry_run: Vec::new() })
    }

    async fn power_journal(&self, limit: u32) -> Result<JournalResult, ApiError> {
        self.store
            .run(move |store| {
                Ok(JournalResult { changes: store.power_journal(limit)?, plans: store.power_plans(limit)? })
            })
            .await
    }
}
