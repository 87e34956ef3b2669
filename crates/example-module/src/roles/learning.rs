//! Learning: logistic regression trained by minibatch SGD on a synthetic, linearly separable
//! stream; smaller batches cost less per second, pause stops training. Goodput is samples
//! trained.

use steward_module::Criticality;

use super::{Declaration, Rng, Workload, feature, level};
use crate::knobs::Knobs;

const BATCHES: [usize; 4] = [256, 128, 64, 32];
const DIM: usize = 64;
const STEPS_PER_S: u64 = 50;

pub fn declaration() -> Declaration {
    Declaration {
        criticality: Criticality::Sheddable,
        features: vec![feature("validation", 1)],
        levels: BATCHES
            .iter()
            .enumerate()
            .map(|(i, b)| level(i as u32, format!("batch {b} × {STEPS_PER_S}/s"), None, None))
            .collect(),
    }
}

pub struct Trainer {
    rng: Rng,
    truth: Vec<f64>,
    weights: Vec<f64>,
    steps: u64,
    /// Held-out log loss at the last validation (the `validation` feature).
    loss: f64,
}

impl Trainer {
    pub fn new() -> Self {
        let mut rng = Rng::new(3);
        let truth = (0..DIM).map(|_| rng.unit() * 2.0 - 1.0).collect();
        Trainer { rng, truth, weights: vec![0.0; DIM], steps: 0, loss: f64::NAN }
    }

    fn sample(&mut self) -> (Vec<f64>, f64) {
        let x: Vec<f64> = (0..DIM).map(|_| self.rng.unit() * 2.0 - 1.0).collect();
        let y = if dot(&x, &self.truth) > 0.0 { 1.0 } else { 0.0 };
        (x, y)
    }

    fn validate(&mut self) {
        let mut loss = 0.0;
        for _ in 0..512 {
            let (x, y) = self.sample();
            let p = sigmoid(dot(&x, &self.weights)).clamp(1e-9, 1.0 - 1e-9);
            loss -= y * p.ln() + (1.0 - y) * (1.0 - p).ln();
        }
        self.loss = loss / 512.0;
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Workload for Trainer {
    fn step(&mut self, knobs: &Knobs) -> u64 {
        let started = std::time::Instant::now();
        let batch = BATCHES[(knobs.level() as usize).min(BATCHES.len() - 1)];
        let mut grad = vec![0.0; DIM];
        for _ in 0..batch {
            let (x, y) = self.sample();
            let err = sigmoid(dot(&x, &self.weights)) - y;
            for (g, xi) in grad.iter_mut().zip(&x) {
                *g += err * xi;
            }
        }
        for (w, g) in self.weights.iter_mut().zip(&grad) {
            *w -= 0.5 * g / batch as f64;
        }
        self.steps += 1;
        if knobs.feature_on("validation") && self.steps.is_multiple_of(STEPS_PER_S) {
            self.validate();
            tracing::debug!(steps = self.steps, loss = self.loss, "validated");
        }
        let period = std::time::Duration::from_secs(1) / STEPS_PER_S as u32;
        std::thread::sleep(period.saturating_sub(started.elapsed()));
        batch as u64
    }
}
