//! Constraint detection: measurements in, constraints in force out, each with hysteresis (a
//! tier is left only below its entry threshold minus `hysteresis_pct`) and a dwell time (a lower
//! tier, or the all-clear, counts only once it has held for `dwell_ms`), so a signal hovering at
//! a threshold cannot flap the steps it triggers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::constraint::{Constraint, ConstraintKind};
use crate::TimestampMs;
use crate::profile::Evidence;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct DetectConfig {
    /// Entry thresholds of memory tiers 1–4, in % of the memory budget.
    pub memory_tiers_pct: [f64; 4],
    /// CPU busy share that is saturation.
    pub cpu_saturated_pct: f64,
    /// Power draw, in % of the power budget, that is over budget.
    pub power_over_pct: f64,
    /// How far below an entry threshold a signal must fall to leave that tier, in points.
    pub hysteresis_pct: f64,
    /// How long a higher tier must hold before it counts (0: at once).
    #[ts(type = "number")]
    pub rise_ms: i64,
    /// How long a lower tier or the all-clear must hold before it counts.
    #[ts(type = "number")]
    pub dwell_ms: i64,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            memory_tiers_pct: [70.0, 80.0, 90.0, 95.0],
            cpu_saturated_pct: 95.0,
            power_over_pct: 100.0,
            hysteresis_pct: 5.0,
            rise_ms: 0,
            dwell_ms: 30_000,
        }
    }
}

impl DetectConfig {
    /// Why the configuration cannot work, if it cannot.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let t = self.memory_tiers_pct;
        if !t.windows(2).all(|w| w[0] < w[1]) || t[0] <= 0.0 || !t.iter().all(|v| v.is_finite()) {
            out.push(format!("memory_tiers_pct must be four increasing percentages, not {t:?}"));
        }
        for (name, v) in [("cpu_saturated_pct", self.cpu_saturated_pct), ("power_over_pct", self.power_over_pct)] {
            if !(v.is_finite() && v > 0.0) {
                out.push(format!("{name} must be a positive percentage, not {v}"));
            }
        }
        if !(self.hysteresis_pct.is_finite() && self.hysteresis_pct >= 0.0) {
            out.push(format!("hysteresis_pct must be ≥ 0, not {}", self.hysteresis_pct));
        }
        if self.rise_ms < 0 || self.dwell_ms < 0 {
            out.push("rise_ms and dwell_ms must be ≥ 0".into());
        }
        out
    }
}

/// Memory in use against its budget.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryUse {
    pub used_bytes: u64,
    pub budget_bytes: u64,
    /// What was counted, e.g. `node memory used` or `RSS of modules workload`.
    pub what: String,
}

/// Power draw against its budget (the energy work fills this in where it measures power).
#[derive(Debug, Clone, PartialEq)]
pub struct PowerUse {
    pub watts: f64,
    pub budget_watts: f64,
    /// Where the watts come from, e.g. `measured by RAPL and NVML` or `modelled: …`.
    pub what: String,
}

/// One moment's measurements; an absent one raises no constraint (and clears none early: it
/// is simply not judged).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    pub ts_ms: TimestampMs,
    pub memory: Option<MemoryUse>,
    pub cpu_pct: Option<f64>,
    pub power: Option<PowerUse>,
    /// Devices clocked down for heat, each with the reasons reported (`hw_thermal_slowdown`).
    pub throttled: Vec<(String, Vec<String>)>,
    /// Nodes whose agents are gone, each with why.
    pub nodes_lost: Vec<(String, String)>,
    /// Accelerators gone or in error (`gpu.1`), each with why.
    pub accelerators_lost: Vec<(String, String)>,
}

/// Turns observations into constraints in force, remembering each signal's tier.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    tracks: BTreeMap<String, Track>,
}

#[derive(Debug, Clone)]
struct Track {
    /// The tier in force, 0 when clear.
    tier: u8,
    since_ms: TimestampMs,
    /// A different tier seen since `.0`: the highest lower one, or the lowest higher one.
    pending: Option<(TimestampMs, u8)>,
    last: Constraint,
}

/// One signal's reading this observation: its raw tier (given the tier in force) and evidence.
struct Reading {
    key: String,
    kind: ConstraintKind,
    raw_tier: u8,
    summary: String,
    evidence: Vec<Evidence>,
}

impl Detector {
    pub fn new() -> Self {
        Detector::default()
    }

    /// Feeds one observation; returns the constraints in force after it, most severe first.
    pub fn observe(&mut self, obs: &Observation, cfg: &DetectConfig) -> Vec<Constraint> {
        let readings = self.readings(obs, cfg);
        let mut seen = Vec::new();
        for r in readings {
            seen.push(r.key.clone());
            self.update(obs.ts_ms, r, cfg);
        }
        // Signals not reported this time (a node back, a GPU back) read as clear.
        let absent: Vec<String> =
            self.tracks.keys().filter(|k| !seen.contains(k) && reported_when_present(k)).cloned().collect();
        for key in absent {
            let last = &self.tracks[&key].last;
            let clear = Reading {
                key: key.clone(),
                kind: last.kind,
                raw_tier: 0,
                summary: last.summary.clone(),
                evidence: last.evidence.clone(),
            };
            self.update(obs.ts_ms, clear, cfg);
        }
        self.tracks.retain(|_, t| t.tier > 0 || t.pending.is_some());
        self.in_force()
    }

    pub fn in_force(&self) -> Vec<Constraint> {
        let mut out: Vec<Constraint> = self.tracks.values().filter(|t| t.tier > 0).map(|t| t.last.clone()).collect();
        out.sort_by(|a, b| b.tier.cmp(&a.tier).then(a.key.cmp(&b.key)));
        out
    }

    fn tier_of(&self, key: &str) -> u8 {
        self.tracks.get(key).map_or(0, |t| t.tier)
    }

    fn update(&mut self, now: TimestampMs, r: Reading, cfg: &DetectConfig) {
        let track = self.tracks.entry(r.key.clone()).or_insert_with(|| Track {
            tier: 0,
            since_ms: now,
            pending: None,
            last: Constraint {
                key: r.key.clone(),
                kind: r.kind,
                tier: 0,
                summary: String::new(),
                evidence: vec![],
                since_ms: now,
            },
        });
        let target = settle(track, now, r.raw_tier, cfg);
        if target != track.tier {
            if track.tier == 0 {
                track.since_ms = now;
            }
            track.tier = target;
            track.pending = None;
        }
        if track.tier > 0 && (r.raw_tier > 0 || track.last.summary.is_empty()) {
            track.last.summary = r.summary;
            track.last.evidence = r.evidence;
        }
        track.last.tier = track.tier;
        track.last.since_ms = track.since_ms;
    }

    fn readings(&self, obs: &Observation, cfg: &DetectConfig) -> Vec<Reading> {
        let mut out = Vec::new();
        if let Some(m) = &obs.memory {
            out.push(memory(obs.ts_ms, m, cfg, self.tier_of("memory")));
        }
        if let Some(pct) = obs.cpu_pct {
            let exit = cfg.cpu_saturated_pct - cfg.hysteresis_pct;
            out.push(over_one(
                "cpu",
                ConstraintKind::Cpu,
                obs.ts_ms,
                pct,
                cfg.cpu_saturated_pct,
                exit,
                self.tier_of("cpu"),
                |v| ("cpu.total".into(), format!("CPU {v:.0} % busy: saturated")),
            ));
        }
        if let Some(p) = &obs.power
            && p.budget_watts > 0.0
        {
            let pct = p.watts / p.budget_watts * 100.0;
            let exit = cfg.power_over_pct - cfg.hysteresis_pct;
            let watts = p.watts;
            let budget = p.budget_watts;
            let what = p.what.clone();
            out.push(over_one(
                "power",
                ConstraintKind::Power,
                obs.ts_ms,
                pct,
                cfg.power_over_pct,
                exit,
                self.tier_of("power"),
                move |_| ("power / budget".into(), format!("drawing {watts:.0} W of a {budget:.0} W budget ({what})")),
            ));
        }
        for (device, reasons) in &obs.throttled {
            out.push(present(
                format!("thermal.{device}"),
                ConstraintKind::Thermal,
                obs.ts_ms,
                format!("{device} clocked down for heat ({})", reasons.join(", ")),
            ));
        }
        for (node, why) in &obs.nodes_lost {
            out.push(present(
                format!("node_lost.{node}"),
                ConstraintKind::NodeLost,
                obs.ts_ms,
                format!("node {node} lost: {why}"),
            ));
        }
        for (device, why) in &obs.accelerators_lost {
            out.push(present(
                format!("accelerator_lost.{device}"),
                ConstraintKind::AcceleratorLost,
                obs.ts_ms,
                format!("{device} gone or in error: {why}"),
            ));
        }
        out
    }
}

/// Keys whose signal is a list of present problems: absent from an observation means cleared.
fn reported_when_present(key: &str) -> bool {
    ["thermal.", "node_lost.", "accelerator_lost."].iter().any(|p| key.starts_with(p))
}

/// The tier to be in force now, given the raw tier and how long it has held.
fn settle(track: &mut Track, now: TimestampMs, raw: u8, cfg: &DetectConfig) -> u8 {
    if raw == track.tier {
        track.pending = None;
        return track.tier;
    }
    let rising = raw > track.tier;
    let wait = if rising { cfg.rise_ms } else { cfg.dwell_ms };
    let (since, seen) = match track.pending {
        // A pending change in the same direction keeps its start; the tier it may settle at is
        // the one nearest the current tier seen since (the least change the signal supports).
        Some((since, seen)) if (seen > track.tier) == rising => {
            (since, if rising { seen.min(raw) } else { seen.max(raw) })
        }
        _ => (now, raw),
    };
    track.pending = Some((since, seen));
    if now - since >= wait { seen } else { track.tier }
}

fn memory(now: TimestampMs, m: &MemoryUse, cfg: &DetectConfig, tier_now: u8) -> Reading {
    let pct = if m.budget_bytes == 0 { 100.0 } else { m.used_bytes as f64 / m.budget_bytes as f64 * 100.0 };
    let threshold = |t: usize| {
        let enter = cfg.memory_tiers_pct[t - 1];
        if t as u8 <= tier_now { enter - cfg.hysteresis_pct } else { enter }
    };
    let raw = (1..=4).rev().find(|&t| pct >= threshold(t)).unwrap_or(0) as u8;
    let shown = threshold(raw.max(1) as usize);
    Reading {
        key: "memory".into(),
        kind: ConstraintKind::Memory,
        raw_tier: raw,
        summary: format!("{} is {pct:.0} % of the {} MiB budget (tier {raw})", m.what, m.budget_bytes / (1 << 20)),
        evidence: vec![evidence(format!("{} / budget", m.what), pct, shown, now)],
    }
}

#[allow(clippy::too_many_arguments)]
fn over_one(
    key: &str,
    kind: ConstraintKind,
    now: TimestampMs,
    pct: f64,
    enter: f64,
    exit: f64,
    tier_now: u8,
    words: impl Fn(f64) -> (String, String),
) -> Reading {
    let threshold = if tier_now > 0 { exit } else { enter };
    let (metric, summary) = words(pct);
    Reading {
        key: key.into(),
        kind,
        raw_tier: u8::from(pct >= threshold),
        summary,
        evidence: vec![evidence(metric, pct, threshold, now)],
    }
}

fn present(key: String, kind: ConstraintKind, now: TimestampMs, summary: String) -> Reading {
    let evidence = vec![Evidence {
        metric: key.clone(),
        value: 1.0,
        threshold: 1.0,
        unit: "present".into(),
        from_ms: now,
        to_ms: now,
        samples: 1,
    }];
    Reading { key, kind, raw_tier: 1, summary, evidence }
}

fn evidence(metric: String, value: f64, threshold: f64, now: TimestampMs) -> Evidence {
    Evidence { metric, value, threshold, unit: "%".into(), from_ms: now, to_ms: now, samples: 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem(ts: i64, used_pct: u64) -> Observation {
        Observation {
            ts_ms: ts,
            memory: Some(MemoryUse { used_bytes: used_pct, budget_bytes: 100, what: "node memory used".into() }),
            ..Default::default()
        }
    }

    fn tier(d: &mut Detector, ts: i64, pct: u64, cfg: &DetectConfig) -> u8 {
        d.observe(&mem(ts, pct), cfg).first().map_or(0, |c| c.tier)
    }

    #[test]
    fn memory_climbs_the_tiers_at_once_and_leaves_them_after_the_dwell() {
        let cfg = DetectConfig { dwell_ms: 10, ..Default::default() };
        let mut d = Detector::new();
        assert_eq!(tier(&mut d, 0, 60, &cfg), 0);
        assert_eq!(tier(&mut d, 1, 72, &cfg), 1);
        assert_eq!(tier(&mut d, 2, 96, &cfg), 4);
        // Tier 4 is left below 95 - 5 = 90 %, so 91 % holds it.
        assert_eq!(tier(&mut d, 3, 91, &cfg), 4);
        assert_eq!(tier(&mut d, 4, 50, &cfg), 4, "clear for 0 ms only");
        assert_eq!(tier(&mut d, 13, 50, &cfg), 4, "clear for 9 ms only");
        assert_eq!(tier(&mut d, 14, 50, &cfg), 0);
    }

    #[test]
    fn a_draw_over_the_power_budget_is_a_constraint_that_names_its_source() {
        let cfg = DetectConfig { dwell_ms: 10, ..Default::default() };
        let draw = |ts, watts| Observation {
            ts_ms: ts,
            power: Some(PowerUse { watts, budget_watts: 200.0, what: "measured".into() }),
            ..Default::default()
        };
        let mut d = Detector::new();
        assert!(d.observe(&draw(0, 190.0), &cfg).is_empty());
        let c = d.observe(&draw(1, 230.0), &cfg);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].kind, ConstraintKind::Power);
        assert!(c[0].summary.contains("230 W of a 200 W budget (measured)"), "{}", c[0].summary);
        // Leaves below 100 - 5 % of the budget, after the dwell.
        assert_eq!(d.observe(&draw(2, 195.0), &cfg).len(), 1);
        assert_eq!(d.observe(&draw(3, 150.0), &cfg).len(), 1);
        assert!(d.observe(&draw(14, 150.0), &cfg).is_empty());
    }

    #[test]
    fn hovering_at_a_threshold_does_not_flap() {
        let cfg = DetectConfig { dwell_ms: 5, ..Default::default() };
        let mut d = Detector::new();
        let mut changes = 0;
        let mut last = 0;
        for ts in 0..100 {
            let t = tier(&mut d, ts, if ts % 2 == 0 { 71 } else { 68 }, &cfg);
            changes += u32::from(t != last);
            last = t;
        }
        assert_eq!(changes, 1, "enters tier 1 once and stays (68 % is above its exit, 65 %)");
    }

    #[test]
    fn constraints_carry_evidence_and_lost_nodes_clear_when_back() {
        let cfg = DetectConfig { dwell_ms: 0, ..Default::default() };
        let mut d = Detector::new();
        let c = d.observe(&mem(0, 85), &cfg);
        assert_eq!(c[0].evidence[0].value, 85.0);
        assert_eq!(c[0].evidence[0].threshold, 80.0);
        assert!(c[0].summary.contains("85 %"), "{}", c[0].summary);
        let lost =
            Observation { ts_ms: 1, nodes_lost: vec![("n1".into(), "stream ended".into())], ..Default::default() };
        let c = d.observe(&lost, &cfg);
        assert!(c.iter().any(|c| c.key == "node_lost.n1" && c.summary.contains("stream ended")));
        let back = Observation { ts_ms: 2, ..Default::default() };
        assert!(!d.observe(&back, &cfg).iter().any(|c| c.kind == ConstraintKind::NodeLost));
    }
}
