//! Small helpers to read procfs/sysfs files below a configurable root.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::TelemetryError;

/// `root` joined with an absolute kernel path such as `/proc/stat`.
pub(crate) fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

/// Read a whole file into `buf` (reused between samples to avoid an allocation per read).
pub(crate) fn read_into(path: &Path, buf: &mut String) -> Result<(), TelemetryError> {
    buf.clear();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_string(buf))
        .map(|_| ())
        .map_err(|e| TelemetryError::io(path.to_path_buf(), e))
}

pub(crate) fn read_string(path: &Path) -> Result<String, TelemetryError> {
    let mut s = String::new();
    read_into(path, &mut s)?;
    Ok(s)
}

/// A file holding one trimmed value, e.g. `/sys/.../scaling_governor`.
pub(crate) fn read_trimmed(path: &Path) -> Result<String, TelemetryError> {
    Ok(read_string(path)?.trim().to_string())
}

pub(crate) fn read_u64(path: &Path) -> Result<u64, TelemetryError> {
    let s = read_string(path)?;
    s.trim().parse().map_err(|_| TelemetryError::parse(path, format!("not an unsigned integer: {:?}", s.trim())))
}

pub(crate) fn read_i64(path: &Path) -> Result<i64, TelemetryError> {
    let s = read_string(path)?;
    s.trim().parse().map_err(|_| TelemetryError::parse(path, format!("not an integer: {:?}", s.trim())))
}

/// Entries of a directory whose names start with `prefix`, sorted naturally (cpu2 before cpu10).
pub(crate) fn list_prefixed(dir: &Path, prefix: &str) -> Result<Vec<String>, TelemetryError> {
    let rd = std::fs::read_dir(dir).map_err(|e| TelemetryError::io(dir.to_path_buf(), e))?;
    let mut names: Vec<String> = rd
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort_by_key(|a| natural_key(a));
    Ok(names)
}

/// Sort key that orders embedded numbers numerically: `temp10` after `temp2`.
pub(crate) fn natural_key(s: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut num: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).saturating_mul(10).saturating_add(d as u64));
        } else {
            if let Some(n) = num.take() {
                out.push((std::mem::take(&mut text), n));
            }
            text.push(c);
        }
    }
    out.push((text, num.unwrap_or(0)));
    out
}

/// Per-second rate from two cumulative counters; `None` when time did not advance or the
/// counter went backwards (device reset, counter re-created).
pub(crate) fn rate(prev: u64, now: u64, dt_ms: i64) -> Option<f64> {
    if dt_ms <= 0 || now < prev {
        return None;
    }
    Some((now - prev) as f64 * 1000.0 / dt_ms as f64)
}

#[cfg(test)]
pub(crate) mod tests_support {
    use std::path::PathBuf;

    /// A fixture tree under `tests/fixtures/`.
    pub(crate) fn fixture(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
    }
}
