//! Reasoning: picks moves in Connect Four positions by negamax with alpha-beta pruning to the
//! level's depth; deeper search plays better and costs more. Goodput is decisions.

use steward_module::Criticality;

use super::{Declaration, Rng, Workload, feature, level};
use crate::knobs::Knobs;

const DEPTHS: [u32; 4] = [8, 6, 4, 2];
const W: usize = 7;
const H: usize = 6;

pub fn declaration() -> Declaration {
    Declaration {
        criticality: Criticality::High,
        features: vec![feature("move_ordering", 1)],
        levels: DEPTHS.iter().enumerate().map(|(i, d)| level(i as u32, format!("depth {d}"), None, None)).collect(),
    }
}

#[derive(Default)]
pub struct Planner {
    rng: Option<Rng>,
    sink: i64,
}

#[derive(Clone)]
struct Board {
    cells: [[i8; H]; W],
    heights: [usize; W],
}

impl Board {
    fn new() -> Self {
        Board { cells: [[0; H]; W], heights: [0; W] }
    }

    fn play(&mut self, col: usize, who: i8) {
        self.cells[col][self.heights[col]] = who;
        self.heights[col] += 1;
    }

    fn undo(&mut self, col: usize) {
        self.heights[col] -= 1;
        self.cells[col][self.heights[col]] = 0;
    }

    /// Whether the piece just played in `col` made four in a row.
    fn wins(&self, col: usize) -> bool {
        let (x, y) = (col as i32, self.heights[col] as i32 - 1);
        let who = self.cells[col][y as usize];
        [(1, 0), (0, 1), (1, 1), (1, -1)].iter().any(|&(dx, dy)| {
            let run = |s: i32| {
                (1..4)
                    .take_while(|k| {
                        let (cx, cy) = (x + s * k * dx, y + s * k * dy);
                        (0..W as i32).contains(&cx)
                            && (0..H as i32).contains(&cy)
                            && self.cells[cx as usize][cy as usize] == who
                    })
                    .count()
            };
            run(1) + run(-1) >= 3
        })
    }
}

fn negamax(b: &mut Board, depth: u32, mut alpha: i32, beta: i32, who: i8, order: &[usize]) -> i32 {
    if depth == 0 {
        return 0;
    }
    let mut best = -1000;
    let mut any = false;
    for &col in order {
        if b.heights[col] == H {
            continue;
        }
        any = true;
        b.play(col, who);
        let score = if b.wins(col) { 100 + depth as i32 } else { -negamax(b, depth - 1, -beta, -alpha, -who, order) };
        b.undo(col);
        best = best.max(score);
        alpha = alpha.max(score);
        if alpha >= beta {
            break;
        }
    }
    if any { best } else { 0 }
}

impl Workload for Planner {
    fn step(&mut self, knobs: &Knobs) -> u64 {
        let rng = self.rng.get_or_insert_with(|| Rng::new(42));
        let mut board = Board::new();
        for i in 0..8 {
            let col = (rng.next() % W as u64) as usize;
            if board.heights[col] < H {
                board.play(col, if i % 2 == 0 { 1 } else { -1 });
            }
        }
        let order: Vec<usize> =
            if knobs.feature_on("move_ordering") { vec![3, 2, 4, 1, 5, 0, 6] } else { (0..W).collect() };
        let depth = DEPTHS[(knobs.level() as usize).min(DEPTHS.len() - 1)];
        self.sink += negamax(&mut board, depth, -1000, 1000, 1, &order) as i64;
        1
    }
}
