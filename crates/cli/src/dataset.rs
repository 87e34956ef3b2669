//! `stewardctl dataset add|list|remove`: datasets registered with the nodes that hold a copy,
//! so distributed tasks naming one run where the data is.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::json;

use crate::http::{ListArgs, Target, call};

#[derive(Subcommand)]
pub enum DatasetCommand {
    /// Register a dataset (or replace one of the same name) with the nodes holding a copy.
    Add(AddArgs),
    /// Every registered dataset with its size and nodes.
    List(ListArgs),
    /// Forget a dataset (the data itself is left alone).
    Remove(NameArgs),
}

#[derive(Args)]
pub struct AddArgs {
    #[command(flatten)]
    target: Target,
    /// Letters, digits, '_', '-' and '.'.
    name: String,
    /// Its size in bytes (moving it to another node is costed by it).
    #[arg(long)]
    bytes: u64,
    /// A node holding a copy, by id as `stewardctl node list` shows it; repeat for more.
    #[arg(long = "node", required = true)]
    nodes: Vec<String>,
}

#[derive(Args)]
pub struct NameArgs {
    #[command(flatten)]
    target: Target,
    /// The dataset's name.
    name: String,
}

pub fn run(cmd: DatasetCommand) -> Result<()> {
    match cmd {
        DatasetCommand::Add(a) => {
            let (_, d) = call(&a.target, "PUT", &path(&a.name), Some(json!({"bytes": a.bytes, "nodes": a.nodes})))?;
            println!(
                "registered {} ({} bytes) on {}",
                d["name"].as_str().unwrap_or(""),
                d["bytes"],
                join_nodes(&d["nodes"])
            );
            Ok(())
        }
        DatasetCommand::Remove(a) => {
            call(&a.target, "DELETE", &path(&a.name), None)?;
            println!("removed {}", a.name);
            Ok(())
        }
        DatasetCommand::List(a) => {
            let (_, list) = call(&a.target, "GET", "/api/datasets", None)?;
            if a.wants_json() {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            println!("{:<32} {:>16}  NODES", "NAME", "BYTES");
            for d in list.as_array().into_iter().flatten() {
                println!(
                    "{:<32} {:>16}  {}",
                    d["name"].as_str().unwrap_or(""),
                    d["bytes"].as_u64().map(|b| b.to_string()).unwrap_or_default(),
                    join_nodes(&d["nodes"])
                );
            }
            Ok(())
        }
    }
}

/// The dataset's URL path; a name the server would refuse is escaped so its answer says why.
fn path(name: &str) -> String {
    let escaped: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_-.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    format!("/api/datasets/{escaped}")
}

fn join_nodes(nodes: &serde_json::Value) -> String {
    nodes.as_array().into_iter().flatten().filter_map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
}
