//! `[backend]` in the config file: which engine the control center drives.
//!
//! ```toml
//! [backend]
//! kind = "slurm"                       # or "native" (the default)
//! [backend.slurm]
//! rest_url = "http://127.0.0.1:6820"   # absent: the CLI on this host only
//! user = "steward-slurm"
//! token_file = "/etc/steward/slurm.jwt" # 0600; read on every call, so rotation needs no restart
//! conf = "/etc/slurm/slurm.conf"        # SLURM_CONF for the CLI
//! work_dir = "/var/lib/steward/slurm"   # job scripts' directory (writable by the jobs' user)
//! partitions = { high = "high", critical = "high" }  # priority class → partition
//! qos = {}                             # priority class → QOS
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq)]
pub enum BackendSettings {
    #[default]
    Native,
    Slurm(SlurmSettings),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmSettings {
    #[serde(default)]
    pub rest_url: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    #[serde(default)]
    pub conf: Option<PathBuf>,
    #[serde(default)]
    pub work_dir: Option<PathBuf>,
    #[serde(default)]
    pub partitions: BTreeMap<String, String>,
    #[serde(default)]
    pub qos: BTreeMap<String, String>,
    /// How often the queue is polled for events, in ms (default 2000).
    #[serde(default)]
    pub poll_ms: Option<u64>,
}

/// The `[backend]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BackendSection {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    slurm: Option<SlurmSettings>,
}

impl BackendSection {
    pub(crate) fn settings(self) -> Result<BackendSettings, String> {
        match self.kind.as_deref().unwrap_or("native") {
            "native" => Ok(BackendSettings::Native),
            "slurm" => {
                let s = self.slurm.unwrap_or_default();
                if s.rest_url.is_some() && (s.user.is_none() || s.token_file.is_none()) {
                    return Err("[backend.slurm] rest_url needs user and token_file (the JWT)".into());
                }
                Ok(BackendSettings::Slurm(s))
            }
            other => Err(format!("[backend] kind must be \"native\" or \"slurm\", not {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BackendSettings, String> {
        toml::from_str::<BackendSection>(text).map_err(|e| e.to_string())?.settings()
    }

    #[test]
    fn sections_read_and_mistakes_are_named() {
        assert_eq!(parse("").unwrap(), BackendSettings::Native);
        let s = parse("kind = \"slurm\"\n[slurm]\nrest_url = \"http://h:6820\"\nuser = \"u\"\ntoken_file = \"/t\"")
            .unwrap();
        assert!(matches!(s, BackendSettings::Slurm(ref s) if s.user.as_deref() == Some("u")));
        assert!(parse("kind = \"pbs\"").unwrap_err().contains("pbs"));
        assert!(parse("kind = \"slurm\"\n[slurm]\nrest_url = \"http://h\"").unwrap_err().contains("token_file"));
        assert!(parse("kind = \"slurm\"\n[slurm]\nrest_ur = \"x\"").unwrap_err().contains("rest_ur"));
    }
}
