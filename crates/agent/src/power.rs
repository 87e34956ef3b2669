//! The power calls of the agent: this node's knobs through `steward_telemetry::power_control`,
//! off the async threads (NVML and sysfs block; a measurement sleeps).

use std::sync::Arc;
use std::time::Duration;

use steward_core::power::Knob;
use steward_proto::agent::{
    MeasurePowerReply, MeasurePowerRequest, PowerOutcome, PowerSettingsReply, SetPowerReply, SetPowerRequest,
};
use steward_telemetry::power_control::{ControlError, PowerControl};
use tonic::Status;

/// The longest measurement one call may ask for.
const MAX_MEASURE_MS: u32 = 60_000;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Status> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Status::internal(format!("power call failed: {e}")))
}

/// The outcome, detail and `would` of a refusal.
pub(crate) fn outcome_of(e: &ControlError) -> (PowerOutcome, String, String) {
    match e {
        ControlError::Denied { would, reason } => (PowerOutcome::Denied, reason.clone(), would.clone()),
        ControlError::Refused(m) => (PowerOutcome::Refused, m.clone(), String::new()),
        ControlError::Unavailable(m) => (PowerOutcome::Unavailable, m.clone(), String::new()),
    }
}

pub(crate) async fn settings(control: Arc<PowerControl>) -> Result<PowerSettingsReply, Status> {
    let devices = blocking(move || control.devices()).await?;
    let devices_json = serde_json::to_vec(&devices).map_err(|e| Status::internal(e.to_string()))?;
    Ok(PowerSettingsReply { devices_json })
}

pub(crate) async fn set(control: Arc<PowerControl>, req: SetPowerRequest) -> Result<SetPowerReply, Status> {
    let knob =
        Knob::parse(&req.knob).ok_or_else(|| Status::invalid_argument(format!("unknown knob {:?}", req.knob)))?;
    let result = blocking(move || control.set(&req.device, knob, &req.value, req.dry_run)).await?;
    Ok(match result {
        Ok(()) => SetPowerReply { outcome: PowerOutcome::Applied as i32, detail: String::new(), would: String::new() },
        Err(e) => {
            let (outcome, detail, would) = outcome_of(&e);
            SetPowerReply { outcome: outcome as i32, detail, would }
        }
    })
}

pub(crate) async fn measure(control: Arc<PowerControl>, req: MeasurePowerRequest) -> Result<MeasurePowerReply, Status> {
    if req.duration_ms == 0 || req.duration_ms > MAX_MEASURE_MS {
        return Err(Status::invalid_argument(format!("duration_ms must be 1–{MAX_MEASURE_MS}")));
    }
    let duration = Duration::from_millis(req.duration_ms.into());
    let result = blocking(move || control.measure(&req.device, duration)).await?;
    Ok(match result {
        Ok(m) => MeasurePowerReply {
            outcome: PowerOutcome::Applied as i32,
            detail: String::new(),
            throughput: m.throughput,
            power_w: m.power_w,
            seconds: m.seconds,
        },
        Err(e) => {
            let (outcome, detail, _) = outcome_of(&e);
            MeasurePowerReply { outcome: outcome as i32, detail, ..Default::default() }
        }
    })
}
