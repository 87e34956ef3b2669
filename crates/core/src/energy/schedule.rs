//! Tariff and carbon intensity: one value, or one per hour of the day (local time, which the
//! caller works out); and what an amount of energy costs at them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A constant, or 24 values for the hours 0–23.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum HourlyRate {
    Constant(f64),
    PerHour(Vec<f64>),
}

impl HourlyRate {
    /// What is wrong with it, if anything.
    pub fn problem(&self) -> Option<String> {
        let values = match self {
            HourlyRate::Constant(v) => std::slice::from_ref(v),
            HourlyRate::PerHour(v) if v.len() != 24 => {
                return Some(format!("needs 24 values (hours 0–23), not {}", v.len()));
            }
            HourlyRate::PerHour(v) => v.as_slice(),
        };
        values.iter().any(|v| !v.is_finite() || *v < 0.0).then(|| "values must be finite and not negative".into())
    }

    /// The value at `hour` (0–23).
    pub fn at(&self, hour: u32) -> f64 {
        match self {
            HourlyRate::Constant(v) => *v,
            HourlyRate::PerHour(v) => v.get(hour as usize % 24).copied().unwrap_or(0.0),
        }
    }

    /// Sum of `joules × rate(hour)` over `(hour of day, joules)` buckets, per kWh.
    pub fn apply(&self, hourly_joules: &[(u32, f64)]) -> f64 {
        hourly_joules.iter().map(|(h, j)| j / 3.6e6 * self.at(*h)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_or_per_hour() {
        let c = HourlyRate::Constant(0.30);
        assert!(c.problem().is_none());
        assert!((c.apply(&[(3, 3.6e6), (15, 7.2e6)]) - 0.9).abs() < 1e-12);
        let mut hours = vec![100.0; 24];
        hours[12] = 50.0;
        let h = HourlyRate::PerHour(hours);
        assert!((h.apply(&[(12, 3.6e6), (13, 3.6e6)]) - 150.0).abs() < 1e-9);
        assert!(HourlyRate::PerHour(vec![1.0; 3]).problem().unwrap().contains("24"));
        assert!(HourlyRate::Constant(-1.0).problem().is_some());
    }
}
