//! Progress for long waits: a bar on a terminal, nothing at all when stderr is piped (indicatif
//! draws only to a terminal), so scripts and logs see the results alone.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Steps of a fraction-of-one progress bar.
const STEPS: u64 = 1000;

/// A bar on stderr that follows a progress fraction (0–1), with a message beside it.
pub fn fraction_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(STEPS), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {percent:>3}% {elapsed}").expect("a valid template"),
    );
    bar
}

/// Moves `bar` to `fraction` (clamped to 0–1).
pub fn set_fraction(bar: &ProgressBar, fraction: f64) {
    bar.set_position((fraction.clamp(0.0, 1.0) * STEPS as f64).round() as u64);
}

/// The phase a long benchmark is in, as one line on a terminal (nothing when stderr is piped).
/// It redraws only when the phase changes: no ticking thread beside what is measured.
pub struct Phases(ProgressBar);

impl Phases {
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(ProgressStyle::with_template("… {msg}").expect("a valid template"));
        Phases(bar)
    }

    pub fn set(&self, phase: &str) {
        self.0.set_message(phase.to_string());
    }

    /// Prints a result line on stdout without tearing the phase line.
    pub fn say(&self, line: impl std::fmt::Display) {
        self.0.suspend(|| println!("{line}"));
    }
}

impl Drop for Phases {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
