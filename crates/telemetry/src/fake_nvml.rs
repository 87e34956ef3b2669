//! Builds the fake `libnvidia-ml.so.1` (tests/fake_nvml/fake_nvml.c) so tests in this and other
//! crates can exercise the NVML path without a GPU. Enabled by the `fake-nvml` feature.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The C source of the fake, embedded so dependents need no path into this crate.
pub const FAKE_NVML_C: &str = include_str!("../tests/fake_nvml/fake_nvml.c");

/// Compile the fake with `cc -shared -fPIC` into `out_dir/libnvidia-ml.so.1` and return its path.
/// Point `SamplerConfig::nvml_lib` (or `STEWARD_NVML_LIB`) at it; set `FAKE_NVML_GPU_COUNT`
/// before NVML initialises to change the number of GPUs (default 2).
pub fn build_fake_nvml(out_dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(out_dir)?;
    let src = out_dir.join("fake_nvml.c");
    std::fs::write(&src, FAKE_NVML_C)?;
    let lib = out_dir.join("libnvidia-ml.so.1");
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let out = Command::new(cc).args(["-shared", "-fPIC", "-O1", "-o"]).arg(&lib).arg(&src).output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!("cc failed: {}", String::from_utf8_lossy(&out.stderr))));
    }
    Ok(lib)
}
