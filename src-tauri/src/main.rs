//! The Steward desktop app: a window over `steward_api::Steward`.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod accel_commands;
mod answer;
mod commands;
mod dataset_commands;
mod dispatch_commands;
mod node_commands;
mod profile_commands;

use std::path::PathBuf;

use anyhow::{Context, Result};
use steward_api::{AdapterProbe, ApiConfig, Steward};
use tauri::{Manager, WindowEvent};

// mimalloc, as in every binary (ARCHITECTURE.md, Invariants).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    // Graphics drivers are loaded in a throw-away child of this binary, never in the app.
    steward_api::serve_adapter_probe_if_asked();
    steward_api::init_logging(std::env::var_os("STEWARD_LOG_JSON").is_some());

    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        anyhow::bail!(
            "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set): run `stewardctl serve` \
             to use Steward in a browser, or start this app under xvfb-run"
        );
    }

    let mut config = ApiConfig { adapter_probe: AdapterProbe::this_executable(), ..ApiConfig::default() };
    if let Some(db) = db_flag() {
        config.db_path = db;
    }
    let db_path = config.db_path.clone();
    let steward =
        Steward::start(config).with_context(|| format!("cannot open the history database {}", db_path.display()))?;

    tauri::Builder::default()
        .manage(steward)
        .manage(commands::LiveFeed::default())
        .invoke_handler(tauri::generate_handler![
            commands::inventory,
            commands::status,
            commands::snapshot,
            commands::history,
            commands::series_names,
            commands::set_visible,
            commands::subscribe,
            profile_commands::profile,
            profile_commands::modules,
            profile_commands::put_module,
            profile_commands::delete_module,
            profile_commands::profile_events,
            profile_commands::start_deep_profile,
            profile_commands::deep_profile,
            commands::resources,
            commands::reservations,
            commands::allocate,
            commands::reservation,
            commands::update_reservation,
            commands::delete_reservation,
            commands::save_reservations_ics,
            commands::allocations,
            commands::cancel_allocation,
            commands::events,
            node_commands::nodes,
            node_commands::probe_node,
            node_commands::add_node,
            node_commands::remove_node,
            node_commands::drain_node,
            dataset_commands::datasets,
            dataset_commands::register_dataset,
            dataset_commands::remove_dataset,
            dispatch_commands::distributed,
            dispatch_commands::executions,
            dispatch_commands::execution,
            dispatch_commands::execution_output,
            dispatch_commands::partition_output,
            dispatch_commands::cancel_execution,
            accel_commands::accelerators,
        ])
        .on_window_event(|window, event| {
            // A minimised or hidden window slows sampling; history stays at ≤ 10 s resolution.
            if let WindowEvent::Focused(_) | WindowEvent::Resized(_) = event {
                let visible = window.is_visible().unwrap_or(true) && !window.is_minimized().unwrap_or(false);
                window.state::<Steward>().set_visible(visible);
            }
        })
        .run(tauri::generate_context!())
        .context("the desktop window failed")?;
    Ok(())
}

/// `--db PATH` (or `STEWARD_DB`): the only flag the desktop app takes.
fn db_flag() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--db" {
            return args.next().map(PathBuf::from);
        }
    }
    std::env::var_os("STEWARD_DB").map(PathBuf::from)
}
