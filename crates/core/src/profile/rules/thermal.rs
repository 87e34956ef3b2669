//! Thermal and power limits: sensors near their marks (hwmon) and clocks held back by the
//! driver (NVML throttle reasons).

use crate::profile::finding::{Finding, Resource, Severity};
use crate::profile::window::Context;

pub fn findings(ctx: &Context) -> Vec<Finding> {
    let mut out = sensors(ctx);
    out.extend(throttling(ctx));
    out
}

fn sensors(ctx: &Context) -> Vec<Finding> {
    let t = ctx.thresholds;
    let Some(temps) = ctx.latest(|s| s.temperatures.value().cloned()) else { return vec![] };
    let mut out = Vec::new();
    for sensor in temps {
        let Some(mark) = sensor.critical_celsius.or(sensor.max_celsius) else { continue };
        let key = format!("thermal.{}", sensor.sensor);
        // Hysteresis in °C: an active finding ends a further margin below the mark.
        let line = mark - if ctx.is_active(&key) { 2.0 * t.temp_margin_c } else { t.temp_margin_c };
        let Some((c, n)) =
            ctx.mean(|s| s.temperatures.value()?.iter().find(|x| x.sensor == sensor.sensor).map(|x| x.celsius))
        else {
            continue;
        };
        if c < line {
            continue;
        }
        out.push(Finding {
            key,
            resource: Resource::Thermal,
            severity: if c >= mark { Severity::Critical } else { Severity::Warning },
            summary: format!("{} is at {c:.0} °C, near its {mark:.0} °C limit", sensor.sensor),
            culprits: ctx.culprits(|p| p.cpu_pct, 100.0, "% of a core"),
            evidence: vec![ctx.evidence(format!("temp.{} mean", sensor.sensor), c, line, "°C", n)],
            since_ms: ctx.to_ms(),
        });
    }
    out
}

/// A throttle reason counts when present in at least half of the window's samples.
fn throttling(ctx: &Context) -> Vec<Finding> {
    let Some(gpus) = ctx.latest(|s| s.gpus.value().cloned()) else { return vec![] };
    let mut out = Vec::new();
    for g in gpus {
        for (kind, resource, word) in [("thermal", Resource::Thermal, "thermal"), ("power", Resource::Power, "power")] {
            let key = format!("gpu.{}.{kind}_throttle", g.index);
            let line = ctx.thresholds.above(50.0, ctx.is_active(&key));
            let share = ctx.mean(|s| {
                let r = s.gpus.value()?.iter().find(|x| x.index == g.index)?.throttle_reasons.value()?.clone();
                Some(if r.iter().any(|r| r.contains(word)) { 100.0 } else { 0.0 })
            });
            let Some((share, n)) = share.filter(|(v, _)| *v >= line) else { continue };
            let reasons = g.throttle_reasons.value().map(|r| r.join(", ")).unwrap_or_default();
            out.push(Finding {
                key,
                resource,
                severity: Severity::Warning,
                summary: format!("GPU {} clocks are held back by its {kind} limit ({reasons})", g.index),
                culprits: vec![],
                evidence: vec![ctx.evidence(
                    format!("gpu.{} {kind} throttle present", g.index),
                    share,
                    line,
                    "% of samples",
                    n,
                )],
                since_ms: ctx.to_ms(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::profile::{Resource, Thresholds};
    use crate::{Reading, Temperature};

    fn temp(c: f64) -> Reading<Vec<Temperature>> {
        vec![Temperature {
            sensor: "coretemp/Package id 0".into(),
            celsius: c,
            max_celsius: Some(100.0),
            critical_celsius: None,
        }]
        .into()
    }

    #[test]
    fn hot_sensor_fires_and_cool_one_does_not() {
        let w = window(5, |_, s| s.temperatures = temp(97.0));
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].resource, Resource::Thermal);
        let w = window(5, |_, s| s.temperatures = temp(70.0));
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
    }

    #[test]
    fn persistent_power_cap_fires_but_a_blip_does_not() {
        let g = |reasons: Vec<String>| {
            let mut g = super::super::gpu::tests_gpu();
            g.throttle_reasons = reasons.into();
            g
        };
        let w = window(6, |_, s| s.gpus = vec![g(vec!["sw_power_cap".into()])].into());
        let f = run(&w, &Thresholds::default(), &[]);
        assert_eq!(f.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), vec!["gpu.0.power_throttle"]);
        let w =
            window(6, |i, s| s.gpus = vec![g(if i == 2 { vec!["hw_thermal_slowdown".into()] } else { vec![] })].into());
        assert!(run(&w, &Thresholds::default(), &[]).is_empty());
    }
}
