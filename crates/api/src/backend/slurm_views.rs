//! Slurm's nodes and reservations as Steward's views show them.

use steward_core::alloc::{Frequency, NodeResources, Recurrence, Reservation, ReservationFlags};
use steward_core::cluster::{EngineFacts, NodeHealth, NodeView};
use steward_core::{Inventory, Reading};
use steward_slurm::model::{self, Node};

const MIB: u64 = 1 << 20;

pub fn node_view(n: &Node) -> NodeView {
    let state = if n.down() {
        NodeHealth::Down
    } else if n.drained() {
        NodeHealth::Draining
    } else {
        NodeHealth::Up
    };
    NodeView {
        id: n.name.clone(),
        address: n.address.clone().unwrap_or_else(|| n.name.clone()),
        name: n.name.clone(),
        state,
        phi: None,
        last_heartbeat_ms: None,
        error: n.down().then(|| n.reason.clone().unwrap_or_else(|| format!("{} in Slurm", n.state.join("+")))),
        fingerprint: None,
        limits_mechanism: None,
        inventory: Some(inventory(n)),
        latest: None,
        engine: Some(facts(n)),
    }
}

fn inventory(n: &Node) -> Inventory {
    let unknown = || "not reported by Slurm".to_string();
    Inventory {
        hostname: n.name.clone(),
        os: unknown(),
        kernel: unknown(),
        cpu_model: unknown(),
        logical_cores: n.cpus.unwrap_or_default() as u32,
        physical_cores: None,
        memory_total_bytes: n.real_memory_mb.unwrap_or_default() * MIB,
        adapters: Reading::unavailable("Slurm does not report graphics adapters; run stewardd on the node for them"),
        gpus: Reading::unavailable("Slurm does not report GPUs' details; run stewardd on the node for them"),
        gpu_links: Reading::unavailable("Slurm does not report GPU links; run stewardd on the node for them"),
        accelerators: Vec::new(),
    }
}

fn facts(n: &Node) -> EngineFacts {
    EngineFacts {
        state: n.state.clone(),
        reason: n.reason.clone(),
        partitions: n.partitions.clone(),
        cpus: n.cpus.map(|c| c as u32),
        alloc_cpus: n.alloc_cpus.map(|c| c as u32),
        load_avg: n.cpu_load.map(|l| l as f64 / 100.0),
        memory_bytes: n.real_memory_mb.map(|m| m * MIB),
        alloc_memory_bytes: n.alloc_memory_mb.map(|m| m * MIB),
        free_memory_bytes: n.free_memory_mb.map(|m| m * MIB),
        gpus: n.gpus.map(|g| g as u32),
        gpus_used: n.gpus_used.map(|g| g as u32),
    }
}

/// A calendar row: Slurm GRES GPUs are counted, not named, so none are listed individually.
pub fn resources(n: &Node) -> NodeResources {
    NodeResources {
        node: n.name.clone(),
        cores: n.cpus.unwrap_or_default() as u32,
        memory_bytes: n.real_memory_mb.unwrap_or_default() * MIB,
        labels: n.partitions.iter().map(|p| (format!("partition.{p}"), "yes".into())).collect(),
        gpus: vec![],
        accelerators: vec![],
    }
}

pub fn reservation(r: &model::Reservation) -> Reservation {
    let has = |f: &str| r.flags.iter().any(|x| x == f);
    let freq = if has("daily") {
        Some(Frequency::Daily)
    } else if has("weekly") {
        Some(Frequency::Weekly)
    } else {
        None
    };
    Reservation {
        id: r.name.clone(),
        name: r.name.clone(),
        owner: r.users.clone(),
        node: r.node_list.clone(),
        gpus: vec![],
        cores: r.core_count.unwrap_or_default() as u32,
        memory_bytes: 0,
        start_time: r.start_time.unwrap_or_default() * 1000,
        end_time: r.end_time.unwrap_or_default() * 1000,
        flags: ReservationFlags { overlap: has("overlap"), ignore_running: has("ignore_jobs") },
        // Slurm moves the one reservation forward each period: it is the next occurrence.
        recurrence: freq.map(|freq| Recurrence { freq, until: None, tz: "UTC".into() }),
        occurrence_of: None,
        occurrence: None,
        exceptions: vec![],
    }
}
