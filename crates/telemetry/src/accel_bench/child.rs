//! The benchmark in a throw-away child of the same executable, as the adapter probe is: the
//! drivers it loads leave with it, and a driver that hangs or crashes takes only the child.

use std::path::Path;
use std::time::Duration;

use steward_core::Reading;

use super::{AdapterBench, benchmark_adapters};
use crate::adapter_probe::run_child;

/// Set in the child's environment: "benchmark the adapters named like this value (`*`: all),
/// print JSON, exit".
pub const BENCH_ENV: &str = "STEWARD_ACCEL_BENCH";
/// Every kernel on every adapter; a software rasterizer takes seconds, a GPU less.
const BENCH_TIMEOUT: Duration = Duration::from_secs(180);

/// Called by [`crate::adapter_probe::serve_adapter_probe_if_asked`]: binaries that serve the
/// probe serve the benchmark too.
pub(crate) fn serve_benchmark_if_asked() {
    if let Some(only) = std::env::var_os(BENCH_ENV) {
        let only = only.to_string_lossy().into_owned();
        let reading = benchmark_adapters(Some(only.as_str()).filter(|o| *o != "*"));
        println!("{}", serde_json::to_string(&reading).unwrap_or_default());
        std::process::exit(0);
    }
}

/// Runs `exe` as the benchmark of the adapters whose name contains `only` (all when `None`).
pub fn benchmark_in_child(exe: &Path, only: Option<&str>) -> Reading<Vec<AdapterBench>> {
    match run_child(exe, (BENCH_ENV, only.unwrap_or("*")), BENCH_TIMEOUT) {
        Ok(out) => parse(&out),
        Err(reason) => Reading::unavailable(reason),
    }
}

/// The answer is the last JSON line (drivers may print before it).
fn parse(out: &str) -> Reading<Vec<AdapterBench>> {
    let line = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|_| {
        Reading::unavailable("the benchmark crashed or answered nonsense (broken graphics driver?)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_a_missing_binary_are_reasons() {
        assert!(parse("Segmentation fault").reason().unwrap().contains("crashed"));
        let r = benchmark_in_child(Path::new("/nonexistent/steward"), None);
        assert!(r.reason().unwrap().contains("cannot start"), "{r:?}");
    }
}
