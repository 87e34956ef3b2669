//! `stewardctl completions <shell>` and `stewardctl man --out DIR`: generated from the same clap
//! definitions as the parser, so they cannot drift from what the binary accepts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete for; e.g. `source <(stewardctl completions bash)`.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Args)]
pub struct ManArgs {
    /// Directory the pages are written to (stewardctl.1, stewardctl-serve.1, …).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn completions(a: CompletionsArgs) -> Result<()> {
    let mut cmd = crate::Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "stewardctl", &mut std::io::stdout());
    Ok(())
}

pub fn man(a: ManArgs) -> Result<()> {
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    clap_mangen::generate_to(crate::Cli::command(), &a.out)
        .with_context(|| format!("cannot write man pages to {}", a.out.display()))?;
    println!("man pages written to {} (view one with `man -l {}/stewardctl.1`)", a.out.display(), a.out.display());
    Ok(())
}
