use anyhow::Result; use clap::Subcommand;
#[derive(Subcommand)] pub enum BenchCommand { /// placeholder until written
 Sampler }
pub fn run(_c: BenchCommand) -> Result<()> { Ok(()) }
