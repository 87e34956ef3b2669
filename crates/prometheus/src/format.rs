//! Which format a scraper asked for: content negotiation on the `Accept` header.
//!
//! Prometheus asks for OpenMetrics first (2.x: `application/openmetrics-text;version=1.0.0,
//! …;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`); curl and older scrapers ask for nothing
//! in particular and get the Prometheus text format.

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsFormat {
    /// The Prometheus text format, version 0.0.4.
    PrometheusText,
    /// OpenMetrics 1.0 text (ends with `# EOF`).
    OpenMetrics,
}

impl MetricsFormat {
    /// The format `accept` prefers: OpenMetrics when it is asked for with a higher quality than
    /// plain text (or plain text is not acceptable), the Prometheus text format otherwise.
    pub fn from_accept(accept: Option<&str>) -> MetricsFormat {
        let Some(accept) = accept else { return MetricsFormat::PrometheusText };
        let (mut openmetrics, mut text) = (0.0f64, 0.0f64);
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f64>().ok())
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(q),
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            MetricsFormat::OpenMetrics
        } else {
            MetricsFormat::PrometheusText
        }
    }

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            MetricsFormat::PrometheusText => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            MetricsFormat::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_gets_openmetrics_and_everyone_else_plain_text() {
        let prometheus_2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;\
                            q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(MetricsFormat::from_accept(Some(prometheus_2)), MetricsFormat::OpenMetrics);
        let prometheus_3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
                            text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        assert_eq!(MetricsFormat::from_accept(Some(prometheus_3)), MetricsFormat::OpenMetrics);
        assert_eq!(MetricsFormat::from_accept(None), MetricsFormat::PrometheusText);
        assert_eq!(MetricsFormat::from_accept(Some("*/*")), MetricsFormat::PrometheusText);
        assert_eq!(MetricsFormat::from_accept(Some("text/plain;version=0.0.4")), MetricsFormat::PrometheusText);
        assert_eq!(
            MetricsFormat::from_accept(Some("application/openmetrics-text;q=0.2, text/plain")),
            MetricsFormat::PrometheusText
        );
        assert_eq!(MetricsFormat::from_accept(Some("application/openmetrics-text;q=0")), MetricsFormat::PrometheusText);
    }
}
