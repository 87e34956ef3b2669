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
