//! `stewardctl backend check`: which engine a config file names, whether it is reachable, and
//! how each operation would be done — before a control center is started on it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use steward_api::ApiConfig;

#[derive(Subcommand)]
pub enum BackendCommand {
    /// Reach the engine the config file's [backend] section names and say what was found.
    Check(CheckArgs),
}

#[derive(Args)]
pub struct CheckArgs {
    /// The config file (TOML) whose [backend] section to check; without it, Steward's own engine.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print the answer as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: BackendCommand) -> Result<()> {
    match cmd {
        BackendCommand::Check(args) => check(args),
    }
}

fn check(args: CheckArgs) -> Result<()> {
    let mut config = ApiConfig::default();
    if let Some(path) = &args.config {
        config.apply_file(path)?;
    }
    let info = steward_api::backend::check(&config.backend).context("the backend is not usable")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    println!("{} backend: {}", info.kind, info.description);
    let width = info.operations.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for op in &info.operations {
        let mark = if op.available { "ok " } else { "no " };
        println!("  {mark} {:width$}  {}", op.name, op.how);
    }
    Ok(())
}
