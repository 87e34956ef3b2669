//! What the sampler costs, per collector: the figure that says whether watching is cheap.

use steward_telemetry::CollectorCost;

use crate::Exposition;
use crate::catalog::{SAMPLER_COLLECTOR_RUNS, SAMPLER_COLLECTOR_SECONDS};

/// Adds runs and busy seconds of each collector in `costs`.
pub fn sampler_cost_metrics(exp: &mut Exposition, costs: &[(&'static str, CollectorCost)]) {
    for (collector, cost) in costs {
        let labels = vec![("collector", collector.to_string())];
        exp.add(&SAMPLER_COLLECTOR_RUNS, labels.clone(), cost.runs as f64);
        exp.add(&SAMPLER_COLLECTOR_SECONDS, labels, cost.busy.as_secs_f64());
    }
}
