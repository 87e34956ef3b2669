//! Which OpenAPI plugin version to speak: the newest the server offers among those this client
//! reads (data shapes changed at v0.0.39 and v0.0.40; [`crate::model`] reads them all).

use serde_json::Value;

use crate::SlurmError;

/// Oldest first: Slurm 22.05 (v0.0.38) to 23.11 (v0.0.41).
pub const SPOKEN: [&str; 4] = ["v0.0.38", "v0.0.39", "v0.0.40", "v0.0.41"];

/// The newest spoken version among the paths of the server's OpenAPI document.
pub fn choose(openapi: &Value) -> Result<&'static str, SlurmError> {
    let paths = openapi.get("paths").and_then(Value::as_object);
    let offered: Vec<&str> = paths
        .map(|p| p.keys().filter_map(|k| k.strip_prefix("/slurm/")?.split('/').next()).collect())
        .unwrap_or_default();
    SPOKEN.iter().rev().find(|v| offered.contains(v)).copied().ok_or_else(|| {
        let mut offered = offered;
        offered.sort_unstable();
        offered.dedup();
        SlurmError::NoVersion { offered: if offered.is_empty() { "none".into() } else { offered.join(", ") } }
    })
}

/// Slurm's release ("22.05.8") from any answer's `meta`.
pub fn release(answer: &Value) -> Option<String> {
    let meta = answer.get("meta")?;
    let slurm = meta.get("Slurm").or_else(|| meta.get("slurm"))?;
    slurm.get("release").and_then(Value::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn picks_the_newest_spoken_version() {
        let doc = json!({"paths": {"/slurm/v0.0.38/ping": {}, "/slurm/v0.0.39/ping": {}, "/slurm/v0.0.99/ping": {}}});
        assert_eq!(choose(&doc).unwrap(), "v0.0.39");
        let err = choose(&json!({"paths": {"/slurm/v0.0.36/ping": {}}})).unwrap_err();
        assert!(err.to_string().contains("v0.0.36"), "{err}");
    }
}
