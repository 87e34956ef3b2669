//! Builds the fake `libnvidia-ml.so.1` (tests/fake_nvml/fake_nvml.c) so tests in this and other
//! crates can exercise the NVML path without a GPU. Enabled by the `fake-nvml` feature.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The C source of the fake, embedded so dependents need no path into this crate.
pub const FAKE_NVML_C: &str = include_str!("../tests/fake_nvml/fake_nvml.c");

/// Compile the fake with `cc -shared -fPIC` into `out_dir/libnvidia-ml.so.1` and return its path.
/// Point `SamplerConfig::nvml_lib` (or `STEWARD_NVML_LIB`) at it; set `FAKE_NVML_GPU_COUNT`
/// before NVML initialises to change the number of GPUs (default 2), `FAKE_NVML_MIG_GPU` to put
/// one GPU in MIG mode.
pub fn build_fake_nvml(out_dir: &Path) -> std::io::Result<PathBuf> {
    build(out_dir, &[])
}

/// Like [`build_fake_nvml`], with GPU `gpu` in MIG mode by default (three MIG devices; see the
/// C source). `FAKE_NVML_MIG_GPU` still overrides it at `nvmlInit`.
pub fn build_fake_nvml_with_mig(out_dir: &Path, gpu: u32) -> std::io::Result<PathBuf> {
    build(out_dir, &[format!("-DFAKE_NVML_MIG_GPU_DEFAULT={gpu}")])
}

/// Like [`build_fake_nvml`], with the power model `curve` (the `FAKE_NVML_POWER_MODEL` format:
/// `GPU LIMIT_W THROUGHPUT POWER_W` entries separated by `;`) and, with `no_permission`, every
/// setter answering `NVML_ERROR_NO_PERMISSION`, by default. The environment variables still
/// override both at `nvmlInit`.
pub fn build_fake_nvml_with_power(out_dir: &Path, curve: &str, no_permission: bool) -> std::io::Result<PathBuf> {
    build(
        out_dir,
        &[
            format!("-DFAKE_NVML_POWER_MODEL_DEFAULT=\"{curve}\""),
            format!("-DFAKE_NVML_NO_PERMISSION_DEFAULT={}", u8::from(no_permission)),
        ],
    )
}

fn build(out_dir: &Path, defines: &[String]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(out_dir)?;
    let src = out_dir.join("fake_nvml.c");
    std::fs::write(&src, FAKE_NVML_C)?;
    let lib = out_dir.join("libnvidia-ml.so.1");
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let out =
        Command::new(cc).args(["-shared", "-fPIC", "-O1"]).args(defines).arg("-o").arg(&lib).arg(&src).output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!("cc failed: {}", String::from_utf8_lossy(&out.stderr))));
    }
    Ok(lib)
}
