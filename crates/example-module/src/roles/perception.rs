//! Perception: a synthetic camera pipeline doing real pixel work per frame — render, 3×3 blur,
//! Sobel edges, histogram — at the level's frame rate and resolution.

use std::time::{Duration, Instant};

use steward_module::Criticality;

use super::{Declaration, Rng, Workload, feature, level};
use crate::knobs::Knobs;

/// (frames per second, width, height) per level, full quality first.
const LEVELS: [(u32, usize, usize); 4] = [(30, 640, 480), (15, 640, 480), (10, 320, 240), (5, 160, 120)];

pub fn declaration() -> Declaration {
    Declaration {
        criticality: Criticality::Critical,
        features: vec![feature("edges", 1), feature("histogram", 2)],
        levels: LEVELS
            .iter()
            .enumerate()
            .map(|(i, (fps, w, h))| level(i as u32, format!("{fps} fps, {w}×{h}"), None, None))
            .collect(),
    }
}

#[derive(Default)]
pub struct Pipeline {
    next_frame: Option<Instant>,
    frame: u64,
    sink: u64,
}

impl Workload for Pipeline {
    fn step(&mut self, knobs: &Knobs) -> u64 {
        let (fps, w, h) = LEVELS[(knobs.level() as usize).min(LEVELS.len() - 1)];
        let due = *self.next_frame.get_or_insert_with(Instant::now);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        self.next_frame = Some(due.max(Instant::now() - Duration::from_secs(1)) + Duration::from_secs(1) / fps);
        self.frame += 1;
        let image = render(w, h, self.frame);
        let blurred = blur(&image, w, h);
        if knobs.feature_on("edges") {
            self.sink ^= sobel(&blurred, w, h);
        }
        if knobs.feature_on("histogram") {
            let mut bins = [0u32; 256];
            for &p in &blurred {
                bins[p as usize] += 1;
            }
            self.sink ^= u64::from(bins[128]);
        }
        1
    }
}

/// A moving gradient with noise.
fn render(w: usize, h: usize, frame: u64) -> Vec<u8> {
    let mut rng = Rng::new(frame);
    (0..w * h).map(|i| ((i % w + i / w + frame as usize) as u64 + (rng.next() & 15)) as u8).collect()
}

fn blur(img: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = img.to_vec();
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let mut sum = 0u32;
            for dy in 0..3 {
                for dx in 0..3 {
                    sum += u32::from(img[(y + dy - 1) * w + x + dx - 1]);
                }
            }
            out[y * w + x] = (sum / 9) as u8;
        }
    }
    out
}

/// Sum of Sobel gradient magnitudes (L1).
fn sobel(img: &[u8], w: usize, h: usize) -> u64 {
    let p = |x: usize, y: usize| i32::from(img[y * w + x]);
    let mut total = 0u64;
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let gx = p(x + 1, y - 1) + 2 * p(x + 1, y) + p(x + 1, y + 1)
                - p(x - 1, y - 1)
                - 2 * p(x - 1, y)
                - p(x - 1, y + 1);
            let gy = p(x - 1, y + 1) + 2 * p(x, y + 1) + p(x + 1, y + 1)
                - p(x - 1, y - 1)
                - 2 * p(x, y - 1)
                - p(x + 1, y - 1);
            total += (gx.unsigned_abs() + gy.unsigned_abs()) as u64;
        }
    }
    total
}
