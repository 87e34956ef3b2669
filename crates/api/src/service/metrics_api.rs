//! `/metrics` of the control center: every node's latest snapshot, the scheduler's queue and
//! decisions, the executor's counters, the kept forecasts' backtests, modules and what sampling
//! costs. Built from what the service already holds at the moment of the scrape: a scrape
//! samples nothing and changes nothing.

use steward_core::alloc::AllocState;
use steward_core::cluster::NodeHealth;
use steward_core::dispatch::ExecStatus;
use steward_core::profile::module;
use steward_prometheus::catalog::*;
use steward_prometheus::{Exposition, MetricsFormat, node_metrics, sampler_cost_metrics};

use super::Steward;

impl Steward {
    /// The control center's metrics in `format` (the front door negotiates it from `Accept`).
    pub fn metrics(&self, format: MetricsFormat) -> String {
        let mut exp = Exposition::new();
        self.node_metrics(&mut exp);
        self.module_metrics(&mut exp);
        self.sampler_metrics(&mut exp);
        self.scheduler_metrics(&mut exp);
        self.dispatch_metrics(&mut exp);
        self.forecast_metrics(&mut exp);
        exp.encode(format)
    }

    /// Each node's state, and the latest snapshot of every node that is not down (a down
    /// node's last snapshot is not its present: it is left out rather than shown as current).
    fn node_metrics(&self, exp: &mut Exposition) {
        for node in self.nodes() {
            let up = node.state == NodeHealth::Up || node.state == NodeHealth::Draining;
            exp.add(&NODE_UP, vec![("node", node.id.clone())], if up { 1.0 } else { 0.0 });
            if let Some(snap) = node.latest.as_ref().filter(|_| node.state != NodeHealth::Down) {
                node_metrics(exp, &node.id, snap);
            }
        }
    }

    fn module_metrics(&self, exp: &mut Exposition) {
        let Some(snap) = self.snapshot() else { return };
        for spec in self.modules() {
            let usage = module::usage(&spec, &snap);
            let labels = vec![("module", spec.name.clone())];
            let readings = [
                (&MODULE_CPU_CORES, usage.cpu_pct.value().map(|p| p / 100.0)),
                (&MODULE_RESIDENT_MEMORY, usage.rss_bytes.value().map(|b| *b as f64)),
                (&MODULE_GPU_MEMORY, usage.gpu_memory_bytes.value().map(|b| *b as f64)),
                (&MODULE_POWER_ESTIMATE, usage.power_w_estimate.value().copied()),
            ];
            for (metric, value) in readings {
                if let Some(v) = value {
                    exp.add(metric, labels.clone(), v);
                }
            }
        }
    }

    fn sampler_metrics(&self, exp: &mut Exposition) {
        sampler_cost_metrics(exp, &self.shared.metrics.sampler_cost.read());
        let status = self.status();
        exp.add(&SAMPLER_INTERVAL, vec![], f64::from(status.sampling.interval_ms) / 1000.0);
        exp.add(&HISTORY_SAMPLES_WRITTEN, vec![], status.samples_written as f64);
    }

    fn scheduler_metrics(&self, exp: &mut Exposition) {
        let figures = self.shared.allocations.figures();
        exp.add(&SCHEDULER_QUEUED, vec![], figures.queued as f64);
        for (state, n) in figures.by_state {
            let name = match state {
                AllocState::Running => "running",
                AllocState::Pending => "pending",
                AllocState::Suspended => "suspended",
                AllocState::Preempted | AllocState::Finished | AllocState::Cancelled => continue,
            };
            exp.add(&SCHEDULER_ALLOCATIONS, vec![("state", name.into())], n as f64);
        }
        let s = figures.stats;
        let decisions = [
            ("placed", s.placed),
            ("backfilled", s.backfilled),
            ("preempted", s.preemptions),
            ("shrunk", s.shrinks),
            ("refused_overlap", s.refused_overlaps),
            ("refused_busy", s.refused_busy),
            ("evicted", s.evictions),
        ];
        for (decision, n) in decisions {
            exp.add(&SCHEDULER_DECISIONS, vec![("decision", decision.into())], n as f64);
        }
    }

    fn dispatch_metrics(&self, exp: &mut Exposition) {
        for (status, n) in self.shared.dispatch.unfinished_executions() {
            let name = match status {
                ExecStatus::Waiting => "waiting",
                ExecStatus::Running => "running",
                ExecStatus::Succeeded | ExecStatus::Failed | ExecStatus::Cancelled => continue,
            };
            exp.add(&DISPATCH_EXECUTIONS, vec![("status", name.into())], n as f64);
        }
        let c = self.shared.dispatch.counters.read();
        exp.add(&DISPATCH_ATTEMPTS_STARTED, vec![], c.attempts_started as f64);
        exp.add(&DISPATCH_ATTEMPTS_ENDED, vec![("outcome", "succeeded".into())], c.attempts_succeeded as f64);
        exp.add(&DISPATCH_ATTEMPTS_ENDED, vec![("outcome", "failed".into())], c.attempts_failed as f64);
        exp.add(&DISPATCH_CANCELS_SENT, vec![], c.cancels_sent as f64);
    }

    fn forecast_metrics(&self, exp: &mut Exposition) {
        let kept = &self.shared.profiling.profiler.kept;
        for (series, horizon_ms, accuracy) in kept.backtests() {
            let labels = vec![("series", series), ("horizon_seconds", (horizon_ms / 1000).to_string())];
            exp.add(&FORECAST_P90_EXCEEDED, labels.clone(), accuracy.p90_exceeded_pct / 100.0);
            exp.add(&FORECAST_UPPER_EXCEEDED, labels.clone(), accuracy.upper_exceeded_pct / 100.0);
            exp.add(&FORECAST_UPPER_SLACK, labels, accuracy.upper_slack_pct / 100.0);
        }
        let cost = kept.cost();
        exp.add(&FORECAST_REFITS, vec![], cost.fits as f64);
        exp.add(&FORECAST_REFIT_SECONDS, vec![], cost.busy.as_secs_f64());
    }
}
