//! A single-node Slurm on 127.0.0.1 for tests, demos and `stewardctl bench slurm`: started by
//! the repository's scripts/slurm/up.sh in a directory of its own, stopped (jobs first) on drop.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::SlurmError;
use crate::cli::Cli;
use crate::client::SlurmClient;
use crate::rest::RestClient;

pub struct LocalCluster {
    pub dir: PathBuf,
    /// What up.sh printed: SLURM_CONF, SLURMRESTD_URL, SLURM_JWT_FILE, SLURM_USER.
    pub env: BTreeMap<String, String>,
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        let _ = Command::new(script("down.sh")).arg(&self.dir).status();
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/slurm").join(name)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// Whether this host can run one: Slurm's daemons installed and running as root.
pub fn available() -> Result<(), String> {
    let missing: Vec<&str> = ["slurmctld", "slurmd", "slurmrestd", "munged", "scontrol"]
        .into_iter()
        .filter(|b| {
            !Command::new("sh").arg("-c").arg(format!("command -v {b}")).output().is_ok_and(|o| o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        return Err(format!("Slurm is not installed here (missing {})", missing.join(", ")));
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("a local Slurm needs root (slurmd runs jobs as their users)".into());
    }
    Ok(())
}

impl LocalCluster {
    /// Starts a cluster in `dir` on free ports. slurmrestd reads the config in `dir` as `nobody`,
    /// so the directories above it must let others through (a fresh temp dir is made so here).
    pub fn start(dir: &Path) -> Result<Self, SlurmError> {
        if let Some(parent) = dir.parent() {
            use std::os::unix::fs::PermissionsExt;
            let private = std::fs::metadata(parent).is_ok_and(|m| m.permissions().mode() & 0o001 == 0);
            if private && parent.starts_with(std::env::temp_dir()) {
                let _ = std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755));
            }
        }
        let out = Command::new(script("up.sh"))
            .arg(dir)
            .env("SLURMCTLD_PORT", free_port().to_string())
            .env("SLURMD_PORT", free_port().to_string())
            .env("SLURMRESTD_PORT", free_port().to_string())
            .output()
            .map_err(|e| SlurmError::Command { program: "scripts/slurm/up.sh".into(), cause: e.to_string() })?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let cluster = LocalCluster {
            dir: dir.to_path_buf(),
            env: text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect(),
        };
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr);
            return Err(SlurmError::Command { program: "scripts/slurm/up.sh".into(), cause: format!("{text}{said}") });
        }
        Ok(cluster)
    }

    pub fn var(&self, key: &str) -> &str {
        self.env.get(key).map(String::as_str).unwrap_or_default()
    }

    /// A client through slurmrestd (and the CLI for what REST cannot do).
    pub fn client(&self) -> Result<SlurmClient, SlurmError> {
        let rest =
            RestClient::connect(self.var("SLURMRESTD_URL"), self.var("SLURM_USER"), self.var("SLURM_JWT_FILE").into())?;
        Ok(SlurmClient { rest: Some(rest), cli: self.cli() })
    }

    pub fn cli(&self) -> Cli {
        Cli { conf: Some(self.var("SLURM_CONF").into()) }
    }
}
