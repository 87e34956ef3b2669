//! One scrape's metrics: families of samples built from what the process holds, encoded by
//! `prometheus-client` as a collector (so both of its text formats come from one build).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use crate::catalog::{Kind, Metric};
use crate::format::MetricsFormat;

/// A sample's labels, in order: `node` first where there is one.
pub type Labels = Vec<(&'static str, String)>;

/// The metrics of one scrape, grouped by family in the order they were first added.
#[derive(Debug, Default)]
pub struct Exposition {
    families: Vec<Family>,
}

#[derive(Debug)]
struct Family {
    metric: &'static Metric,
    samples: Vec<(Labels, f64)>,
}

impl Exposition {
    pub fn new() -> Self {
        Exposition::default()
    }

    /// Adds one sample. A value that is not finite was not measured: it is left out.
    pub fn add(&mut self, metric: &'static Metric, labels: Labels, value: f64) {
        if !value.is_finite() {
            return;
        }
        let at = match self.families.iter().position(|f| std::ptr::eq(f.metric, metric)) {
            Some(at) => at,
            None => {
                self.families.push(Family { metric, samples: Vec::new() });
                self.families.len() - 1
            }
        };
        self.families[at].samples.push((labels, value));
    }

    /// How many samples `metric` has (tests, and callers that check what they built).
    pub fn count(&self, metric: &Metric) -> usize {
        self.families.iter().find(|f| std::ptr::eq(f.metric, metric)).map_or(0, |f| f.samples.len())
    }

    /// The exposition in `format`.
    pub fn encode(self, format: MetricsFormat) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self));
        let mut out = String::new();
        // Writing into a String cannot fail, and every name and label is ours.
        let encoded = match format {
            MetricsFormat::PrometheusText => prometheus_client::encoding::prometheus_text::encode(&mut out, &registry),
            MetricsFormat::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry),
        };
        debug_assert!(encoded.is_ok());
        out
    }
}

impl Collector for Exposition {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for family in &self.families {
            let m = family.metric;
            let unit = m.unit.map(|u| Unit::Other(u.to_string()));
            let mut metric = encoder.encode_descriptor(m.name, m.help, unit.as_ref(), m.kind.metric_type())?;
            for (labels, value) in &family.samples {
                let sample = metric.encode_family(labels)?;
                match m.kind {
                    Kind::Gauge => ConstGauge::new(*value).encode(sample)?,
                    Kind::Counter => ConstCounter::new(*value).encode(sample)?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{NODE_CPU_UTILIZATION, NODE_NETWORK_RECEIVE};

    #[test]
    fn both_formats_carry_units_counters_and_escaped_labels() {
        let mut e = Exposition::new();
        e.add(&NODE_CPU_UTILIZATION, vec![("node", "local".into())], 0.25);
        e.add(&NODE_NETWORK_RECEIVE, vec![("node", "local".into()), ("device", "we\"ird".into())], 1024.0);
        e.add(&NODE_CPU_UTILIZATION, vec![("node", "b".into())], f64::NAN);
        assert_eq!(e.count(&NODE_CPU_UTILIZATION), 1);
        let text = Exposition { families: std::mem::take(&mut e.families) }.encode(MetricsFormat::PrometheusText);
        assert!(text.contains("# TYPE steward_node_cpu_utilization_ratio gauge\n"), "{text}");
        assert!(text.contains("steward_node_cpu_utilization_ratio{node=\"local\"} 0.25\n"), "{text}");
        assert!(text.contains("steward_node_network_receive_bytes_total{node=\"local\",device=\"we\\\"ird\"} 1024"));
        assert!(!text.contains("node=\"b\""), "a NaN is not a measurement: {text}");
        assert!(!text.contains("# EOF"));

        let mut e = Exposition::new();
        e.add(&NODE_CPU_UTILIZATION, vec![("node", "local".into())], 0.25);
        let om = e.encode(MetricsFormat::OpenMetrics);
        assert!(om.contains("# UNIT steward_node_cpu_utilization_ratio ratio\n"), "{om}");
        assert!(om.ends_with("# EOF\n"), "{om}");
    }
}
