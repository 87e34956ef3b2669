//! The four roles: each a real workload with a quality knob, a criticality and features, and
//! the registration that declares them.

mod learning;
mod memory;
mod perception;
mod reasoning;

use steward_module::{Criticality, Feature, QualityLevel, Registration};

use crate::knobs::Knobs;

/// One piece of a role's work at the current knobs; answers the units of goodput it did.
pub trait Workload: Send {
    fn step(&mut self, knobs: &Knobs) -> u64;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Perception,
    Memory,
    Reasoning,
    Learning,
}

/// What a role declares, before its name and PIDs are filled in.
pub struct Declaration {
    pub criticality: Criticality,
    pub features: Vec<Feature>,
    pub levels: Vec<QualityLevel>,
}

impl Role {
    pub fn word(self) -> &'static str {
        match self {
            Role::Perception => "perception",
            Role::Memory => "memory",
            Role::Reasoning => "reasoning",
            Role::Learning => "learning",
        }
    }

    /// The declaration and the workload; `scale_mib` sizes the memory role's full cache.
    pub fn build(self, scale_mib: u64) -> (Declaration, Box<dyn Workload>) {
        match self {
            Role::Perception => (perception::declaration(), Box::new(perception::Pipeline::default())),
            Role::Memory => (memory::declaration(scale_mib), Box::new(memory::Cache::new(scale_mib))),
            Role::Reasoning => (reasoning::declaration(), Box::new(reasoning::Planner::default())),
            Role::Learning => (learning::declaration(), Box::new(learning::Trainer::new())),
        }
    }
}

impl Declaration {
    pub fn registration(self, name: String, role: Role, report_interval_ms: u32) -> Registration {
        Registration {
            name,
            role: role.word().into(),
            criticality: self.criticality,
            features: self.features,
            minimal_level: self.levels.len() as u32 - 1,
            quality_levels: self.levels,
            pids: vec![std::process::id()],
            report_interval_ms,
        }
    }
}

fn feature(name: &str, rank: u32) -> Feature {
    Feature { name: name.into(), rank }
}

fn level(level: u32, label: String, cpu_millis: Option<u32>, memory_bytes: Option<u64>) -> QualityLevel {
    QualityLevel { level, label, cpu_millis, memory_bytes, gpu_memory_bytes: None }
}

/// xorshift64*: synthetic inputs, seeded, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
