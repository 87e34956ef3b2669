//! `stewardctl bench degradation`: four modules (critical, high, normal, sheddable) under
//! overload episodes in which their memory demand doubles to 2× what the budget holds at full
//! quality, simulated second by second with Steward's detector and engine, beside two
//! baselines in the same run: no degradation, and all-or-nothing shedding (every non-critical
//! module paused while memory is constrained).
//!
//! The model, stated so its figures can be judged: a module needs its level's declared memory
//! times the load (1 unloaded, 2 in an episode), less 10 % per feature off; paused, nothing.
//! Its goodput is its work rate at full quality times its level's share (1, 0.75, 0.5); while
//! demand exceeds the budget every module slows by budget/demand (pages are swapped), and after
//! `oom_after_s` over the budget the kernel's OOM killer ends the largest module, which restarts
//! `restart_s` after its demand fits again.

use anyhow::Result;
use clap::Args;
use steward_core::degrade::detect::MemoryUse;
use steward_core::degrade::engine::MemoryGate;
use steward_core::degrade::ladder::shed_rank;
use steward_core::degrade::policy::defaults;
use steward_core::degrade::{Commanded, DetectConfig, Detector, Engine, Inputs, ModuleView, Observation};
use steward_core::registration::{Criticality, Directive, Feature};

#[derive(Args)]
pub struct DegradationBenchArgs {
    /// Overload episodes (each `episode_s` long, `calm_s` apart).
    #[arg(long, default_value_t = 3)]
    episodes: usize,
    /// Seconds each overload episode lasts.
    #[arg(long, default_value_t = 600)]
    episode_s: i64,
    /// Seconds of normal load before each episode.
    #[arg(long, default_value_t = 600)]
    calm_s: i64,
    /// Demand during an episode, as a multiple of the unloaded demand (2: full quality needs
    /// twice what fits in the budget's 60 %).
    #[arg(long, default_value_t = 2.0)]
    overload: f64,
    /// The engine's scheduled check (recovery), in seconds.
    #[arg(long, default_value_t = 60)]
    check_interval_s: i64,
    /// Seconds a constraint must persist (or stay cleared) before it counts.
    #[arg(long, default_value_t = 30)]
    dwell_s: i64,
    /// Seconds over the memory budget before the simulated OOM killer ends the largest module.
    #[arg(long, default_value_t = 30)]
    oom_after_s: i64,
    /// Seconds an OOM-killed module takes to restart once its demand fits.
    #[arg(long, default_value_t = 10)]
    restart_s: i64,
}

const BUDGET: f64 = 1000.0;
const CHECK_PHASE_S: i64 = 17;
const LEVEL_SHARE: [f64; 3] = [1.0, 0.75, 0.5];

/// (name, criticality, memory per level at load 1, features, work per second at full quality)
fn modules() -> Vec<(ModuleView, f64)> {
    let m = |name: &str, c, levels: &[u64], features: &[&str], rate| {
        let view = ModuleView {
            name: name.into(),
            node: "local".into(),
            criticality: c,
            features: features
                .iter()
                .enumerate()
                .map(|(i, f)| Feature { name: (*f).into(), rank: i as u32 + 1 })
                .collect(),
            levels: levels.len() as u32,
            minimal_level: levels.len() as u32 - 1,
            lost: false,
            level_memory_bytes: levels.iter().map(|&b| Some(b)).collect(),
            memory_bytes: None,
            reported_level: None,
            latency_ms: None,
        };
        (view, rate)
    };
    vec![
        m("perception", Criticality::Critical, &[120], &[], 30.0),
        m("memory", Criticality::High, &[150, 100, 50], &["prefetch"], 200.0),
        m("reasoning", Criticality::Normal, &[180, 110, 40], &["explain", "deep"], 10.0),
        m("learning", Criticality::Sheddable, &[150, 90, 30], &["augment"], 50.0),
    ]
}

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    Steward,
    NoDegradation,
    AllOrNothing,
}

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::Steward => "Steward (tier policies)",
            Strategy::NoDegradation => "no degradation",
            Strategy::AllOrNothing => "all-or-nothing shedding",
        }
    }
}

#[derive(Default)]
struct Outcome {
    /// Work done per module, in module order.
    work: Vec<f64>,
    over_budget_s: i64,
    oom_kills: u32,
    /// Per episode: the most times any module's commanded state changed.
    transitions: Vec<u32>,
    /// Per episode: seconds from its end until every module ran at full quality again.
    recovery_s: Vec<Option<i64>>,
    /// Per episode: whether every directive that took something away went to modules in
    /// shedding order (sheddable, normal, high); `None` where the strategy sends none.
    shed_in_order: Vec<Option<bool>>,
}

struct Sim<'a> {
    args: &'a DegradationBenchArgs,
    mods: Vec<(ModuleView, f64)>,
}

impl Sim<'_> {
    fn load(&self, t: i64) -> f64 {
        let period = self.args.calm_s + self.args.episode_s;
        let in_run = t < period * self.args.episodes as i64;
        if in_run && t % period >= self.args.calm_s { self.args.overload } else { 1.0 }
    }

    /// The episode a second belongs to: from its start to the next one's (its recovery too).
    fn episode_of(&self, t: i64) -> usize {
        let period = self.args.calm_s + self.args.episode_s;
        let e = (t - self.args.calm_s).max(0) / period;
        (e as usize).min(self.args.episodes - 1)
    }

    fn demand(&self, i: usize, c: &Commanded, load: f64) -> f64 {
        let m = &self.mods[i].0;
        if c.paused {
            return 0.0;
        }
        let declared = m.level_memory_bytes[c.level as usize].unwrap_or(0) as f64;
        declared * load * (1.0 - 0.1 * c.disabled.len() as f64)
    }

    fn run(&self, strategy: Strategy, load_override: Option<f64>) -> Outcome {
        let a = self.args;
        let end = (a.calm_s + a.episode_s) * a.episodes as i64 + a.calm_s;
        let n = self.mods.len();
        let detect = DetectConfig { dwell_ms: a.dwell_s * 1000, ..Default::default() };
        let policies = defaults();
        let mut detector = Detector::new();
        let mut engine = Engine::new();
        let mut views: Vec<ModuleView> = self.mods.iter().map(|(m, _)| m.clone()).collect();
        let mut state = vec![Commanded::default(); n];
        let mut killed_until: Vec<Option<i64>> = vec![None; n];
        let mut over_since: Option<i64> = None;
        let mut out = Outcome { work: vec![0.0; n], ..Default::default() };
        let episodes = a.episodes;
        let mut transitions = vec![vec![0u32; n]; episodes];
        let mut shed_ranks: Vec<Vec<u8>> = vec![vec![]; episodes];
        let mut recovered: Vec<Option<i64>> = vec![None; episodes];
        for t in 0..end {
            let load = load_override.unwrap_or_else(|| self.load(t));
            let alive: Vec<bool> = killed_until.iter().map(|k| k.is_none_or(|u| t >= u)).collect();
            let demand: Vec<f64> =
                (0..n).map(|i| if alive[i] { self.demand(i, &state[i], load) } else { 0.0 }).collect();
            let used: f64 = demand.iter().sum();
            // Work this second.
            let slow = if used > BUDGET { BUDGET / used } else { 1.0 };
            for i in 0..n {
                if alive[i] && !state[i].paused {
                    out.work[i] += self.mods[i].1 * LEVEL_SHARE[state[i].level as usize] * slow;
                }
            }
            // The kernel: OOM kill of the largest after `oom_after_s` over the budget.
            if used > BUDGET {
                out.over_budget_s += 1;
                let since = *over_since.get_or_insert(t);
                if t - since >= a.oom_after_s {
                    let (victim, _) =
                        demand.iter().enumerate().fold((0, -1.0), |b, (i, &d)| if d > b.1 { (i, d) } else { b });
                    killed_until[victim] = Some(i64::MAX);
                    out.oom_kills += 1;
                    over_since = None;
                }
            } else {
                over_since = None;
                for k in killed_until.iter_mut().filter(|k| **k == Some(i64::MAX)) {
                    *k = Some(t + a.restart_s);
                }
            }
            for (v, (i, d)) in views.iter_mut().zip(demand.iter().enumerate()) {
                v.memory_bytes = Some(*d as u64);
                v.reported_level = Some(state[i].level);
            }
            // Steward's side.
            let obs = Observation {
                ts_ms: t * 1000,
                memory: Some(MemoryUse {
                    used_bytes: used as u64,
                    budget_bytes: BUDGET as u64,
                    what: "modules".into(),
                }),
                ..Default::default()
            };
            let constraints = detector.observe(&obs, &detect);
            // Checks run on their own clock: not in step with the episodes.
            let check = (t + CHECK_PHASE_S) % a.check_interval_s == 0;
            let next: Vec<Commanded> = match strategy {
                Strategy::NoDegradation => state.clone(),
                Strategy::Steward => {
                    let gate = MemoryGate {
                        used_bytes: used as u64,
                        budget_bytes: BUDGET as u64,
                        resume_below_pct: detect.memory_tiers_pct[0] - detect.hysteresis_pct,
                    };
                    let c = engine.check(&Inputs {
                        now_ms: t * 1000,
                        constraints: &constraints,
                        modules: &views,
                        policies: &policies,
                        headroom_pct: None,
                        memory: Some(gate),
                        recover: check,
                    });
                    let ep = self.episode_of(t);
                    let taking = c.orders.iter().filter(|o| takes_away(&o.directive, &state, &views, &o.module));
                    shed_ranks[ep].extend(
                        taking
                            .filter_map(|o| views.iter().find(|v| v.name == o.module))
                            .map(|v| shed_rank(v.criticality)),
                    );
                    views.iter().map(|v| engine.commanded(v)).collect()
                }
                Strategy::AllOrNothing => {
                    let constrained = !constraints.is_empty();
                    let shed = state.iter().any(|c| c.paused);
                    let pause = if constrained {
                        true
                    } else if check {
                        false
                    } else {
                        shed
                    };
                    views
                        .iter()
                        .map(|v| Commanded {
                            paused: pause && v.criticality != Criticality::Critical,
                            ..Default::default()
                        })
                        .collect()
                }
            };
            let ep = self.episode_of(t);
            for i in 0..n {
                if next[i] != state[i] {
                    transitions[ep][i] += 1;
                }
            }
            state = next;
            // Recovery: after an episode's end, the first second everything is whole again.
            let period = a.calm_s + a.episode_s;
            // In the calm after episode e (which ended at (e + 1) × period).
            if t >= period && t % period < a.calm_s {
                let e = (t / period) as usize - 1;
                let whole =
                    state.iter().all(|c| !c.degraded()) && killed_until.iter().all(|k| k.is_none_or(|u| t >= u));
                if e < episodes && recovered[e].is_none() && whole {
                    recovered[e] = Some(t - period * (e as i64 + 1));
                }
            }
        }
        out.transitions = transitions.iter().map(|per| per.iter().copied().max().unwrap_or(0)).collect();
        out.recovery_s = recovered;
        out.shed_in_order = if strategy == Strategy::Steward {
            shed_ranks.iter().map(|r| Some(r.windows(2).all(|w| w[0] <= w[1]))).collect()
        } else {
            vec![None; episodes]
        };
        out
    }
}

pub fn run(args: DegradationBenchArgs) -> Result<()> {
    let sim = Sim { args: &args, mods: modules() };
    let unloaded = sim.run(Strategy::NoDegradation, Some(1.0));
    let full = |i: usize| unloaded.work[i];
    println!(
        "{} episodes of {} s at {}× memory demand ({} s apart); budget {BUDGET:.0}, unloaded demand {:.0} %; \
         check every {} s, dwell {} s",
        args.episodes,
        args.episode_s,
        args.overload,
        args.calm_s,
        sim.mods.iter().map(|(m, _)| m.level_memory_bytes[0].unwrap_or(0) as f64).sum::<f64>() / BUDGET * 100.0,
        args.check_interval_s,
        args.dwell_s,
    );
    println!(
        "{:<26} {:>9} {:>7} {:>7} {:>9} {:>6} {:>9} {:>11} {:>11} {:>8}",
        "strategy", "critical", "high", "normal", "sheddable", "OOM", "over s", "transitions", "recovery s", "in order"
    );
    for s in [Strategy::Steward, Strategy::NoDegradation, Strategy::AllOrNothing] {
        let o = sim.run(s, None);
        let pct = |i: usize| o.work[i] / full(i) * 100.0;
        let recovery: Vec<String> =
            o.recovery_s.iter().map(|r| r.map_or("never".to_string(), |s| s.to_string())).collect();
        println!(
            "{:<26} {:>8.2}% {:>6.1}% {:>6.1}% {:>8.1}% {:>6} {:>9} {:>11} {:>11} {:>8}",
            s.name(),
            pct(0),
            pct(1),
            pct(2),
            pct(3),
            o.oom_kills,
            o.over_budget_s,
            o.transitions.iter().map(u32::to_string).collect::<Vec<_>>().join("/"),
            recovery.join("/"),
            match o.shed_in_order.iter().copied().collect::<Option<Vec<bool>>>() {
                None => "—",
                Some(v) if v.iter().all(|&b| b) => "yes",
                Some(_) => "no",
            },
        );
    }
    println!(
        "goodput in % of the unloaded run's; transitions: per episode, the most any module was switched; \
         recovery: seconds from an episode's end until every module is whole (2 checks = {} s)",
        2 * args.check_interval_s
    );
    Ok(())
}

/// Whether `d` takes something from `module` (as opposed to giving back).
fn takes_away(d: &Directive, state: &[Commanded], views: &[ModuleView], module: &str) -> bool {
    let Some(i) = views.iter().position(|v| v.name == module) else { return false };
    match d {
        Directive::SetQuality { level } => *level > state[i].level,
        Directive::DisableFeature { .. } | Directive::Pause => true,
        Directive::EnableFeature { .. } | Directive::Resume => false,
    }
}
