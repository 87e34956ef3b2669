//! Every metric Steward exposes: name, unit, type and help, in one place (docs/prometheus.md
//! lists the same). Names are given without the unit and `_total`, which the encoder appends:
//! `steward_node_cpu_utilization` + `ratio` is `steward_node_cpu_utilization_ratio`.

use prometheus_client::metrics::MetricType;

/// Gauge or counter: all Steward exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

impl Kind {
    pub(crate) fn metric_type(self) -> MetricType {
        match self {
            Kind::Gauge => MetricType::Gauge,
            Kind::Counter => MetricType::Counter,
        }
    }
}

/// A metric family's description.
#[derive(Debug, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub help: &'static str,
    /// The base unit, appended to the name: `bytes`, `seconds`, `ratio`, …
    pub unit: Option<&'static str>,
    pub kind: Kind,
}

const fn gauge(name: &'static str, unit: Option<&'static str>, help: &'static str) -> Metric {
    Metric { name, help, unit, kind: Kind::Gauge }
}

const fn counter(name: &'static str, unit: Option<&'static str>, help: &'static str) -> Metric {
    Metric { name, help, unit, kind: Kind::Counter }
}

// Node state, as the control center sees it.
pub static NODE_UP: Metric =
    gauge("steward_node_up", None, "1 while the node is up (its heartbeats arrive), 0 while it is suspect or down.");
pub static NODE_SNAPSHOT_TIMESTAMP: Metric = gauge(
    "steward_node_snapshot_timestamp",
    Some("seconds"),
    "When the node's latest snapshot was taken, in seconds since the Unix epoch.",
);

// CPU, memory, load (node_exporter's names where they mean the same).
pub static NODE_CPU_UTILIZATION: Metric = gauge(
    "steward_node_cpu_utilization",
    Some("ratio"),
    "Busy share of all logical cores between the last two samples.",
);
pub static NODE_CPU_CORE_UTILIZATION: Metric = gauge(
    "steward_node_cpu_core_utilization",
    Some("ratio"),
    "Busy share of one logical core between the last two samples.",
);
pub static NODE_CPU_FREQUENCY: Metric =
    gauge("steward_node_cpu_frequency", Some("hertz"), "Current frequency of one logical core.");
pub static NODE_LOAD1: Metric = gauge("steward_node_load1", None, "1 minute load average.");
pub static NODE_LOAD5: Metric = gauge("steward_node_load5", None, "5 minute load average.");
pub static NODE_LOAD15: Metric = gauge("steward_node_load15", None, "15 minute load average.");
pub static NODE_MEMORY_TOTAL: Metric = gauge("steward_node_memory_total", Some("bytes"), "Physical memory.");
pub static NODE_MEMORY_AVAILABLE: Metric = gauge(
    "steward_node_memory_available",
    Some("bytes"),
    "Memory available to new work without swapping (the kernel's MemAvailable).",
);
pub static NODE_MEMORY_USED: Metric =
    gauge("steward_node_memory_used", Some("bytes"), "Memory in use: total minus available.");
pub static NODE_MEMORY_SWAP_TOTAL: Metric = gauge("steward_node_memory_swap_total", Some("bytes"), "Swap space.");
pub static NODE_MEMORY_SWAP_USED: Metric = gauge("steward_node_memory_swap_used", Some("bytes"), "Swap space in use.");

// Pressure stall information (node_exporter's node_pressure_*).
pub static NODE_PRESSURE_CPU_WAITING: Metric =
    counter("steward_node_pressure_cpu_waiting", Some("seconds"), "Time some tasks waited for CPU (PSI cpu some).");
pub static NODE_PRESSURE_CPU_STALLED: Metric = counter(
    "steward_node_pressure_cpu_stalled",
    Some("seconds"),
    "Time all non-idle tasks were stalled on CPU (PSI cpu full).",
);
pub static NODE_PRESSURE_MEMORY_WAITING: Metric = counter(
    "steward_node_pressure_memory_waiting",
    Some("seconds"),
    "Time some tasks waited for memory (PSI memory some).",
);
pub static NODE_PRESSURE_MEMORY_STALLED: Metric = counter(
    "steward_node_pressure_memory_stalled",
    Some("seconds"),
    "Time all non-idle tasks were stalled on memory (PSI memory full).",
);
pub static NODE_PRESSURE_IO_WAITING: Metric =
    counter("steward_node_pressure_io_waiting", Some("seconds"), "Time some tasks waited for I/O (PSI io some).");
pub static NODE_PRESSURE_IO_STALLED: Metric = counter(
    "steward_node_pressure_io_stalled",
    Some("seconds"),
    "Time all non-idle tasks were stalled on I/O (PSI io full).",
);

// Disks and file systems.
pub static NODE_FILESYSTEM_SIZE: Metric = gauge("steward_node_filesystem_size", Some("bytes"), "File system size.");
pub static NODE_FILESYSTEM_AVAIL: Metric =
    gauge("steward_node_filesystem_avail", Some("bytes"), "File system space available to unprivileged users.");
pub static NODE_DISK_READ_RATE: Metric =
    gauge("steward_node_disk_read", Some("bytes_per_second"), "Bytes read per second between the last two samples.");
pub static NODE_DISK_WRITE_RATE: Metric = gauge(
    "steward_node_disk_write",
    Some("bytes_per_second"),
    "Bytes written per second between the last two samples.",
);
pub static NODE_DISK_IO_UTILIZATION: Metric = gauge(
    "steward_node_disk_io_utilization",
    Some("ratio"),
    "Share of time the device had I/O in flight (iostat %util).",
);
pub static NODE_DISK_QUEUE_DEPTH: Metric =
    gauge("steward_node_disk_queue_depth", None, "Average requests in flight or queued (iostat aqu-sz).");

// Network.
pub static NODE_NETWORK_RECEIVE: Metric =
    counter("steward_node_network_receive", Some("bytes"), "Bytes received by the interface.");
pub static NODE_NETWORK_TRANSMIT: Metric =
    counter("steward_node_network_transmit", Some("bytes"), "Bytes sent by the interface.");
pub static NODE_NETWORK_SPEED: Metric =
    gauge("steward_node_network_speed", Some("bytes"), "Link speed in bytes per second, as the driver reports it.");

// Sensors, processes.
pub static NODE_HWMON_TEMP: Metric =
    gauge("steward_node_hwmon_temp", Some("celsius"), "Temperature of a hardware monitoring sensor.");
pub static NODE_HWMON_TEMP_MAX: Metric =
    gauge("steward_node_hwmon_temp_max", Some("celsius"), "A sensor's high-temperature threshold.");
pub static NODE_HWMON_TEMP_CRIT: Metric =
    gauge("steward_node_hwmon_temp_crit", Some("celsius"), "A sensor's critical-temperature threshold.");
pub static NODE_PROCESSES: Metric = gauge("steward_node_processes", None, "Processes on the node.");

// GPUs (label device: gpu<index>).
pub static NODE_GPU_INFO: Metric =
    gauge("steward_node_gpu_info", None, "A GPU's identity: always 1, with its uuid and model as labels.");
pub static NODE_GPU_UTILIZATION: Metric =
    gauge("steward_node_gpu_utilization", Some("ratio"), "Share of time a kernel ran on the GPU.");
pub static NODE_GPU_MEMORY_UTILIZATION: Metric =
    gauge("steward_node_gpu_memory_utilization", Some("ratio"), "Share of time GPU memory was read or written.");
pub static NODE_GPU_MEMORY_USED: Metric = gauge("steward_node_gpu_memory_used", Some("bytes"), "GPU memory in use.");
pub static NODE_GPU_MEMORY_TOTAL: Metric = gauge("steward_node_gpu_memory_total", Some("bytes"), "GPU memory.");
pub static NODE_GPU_POWER: Metric = gauge("steward_node_gpu_power", Some("watts"), "GPU power draw.");
pub static NODE_GPU_POWER_LIMIT: Metric = gauge("steward_node_gpu_power_limit", Some("watts"), "GPU power limit.");
pub static NODE_GPU_ENERGY: Metric =
    counter("steward_node_gpu_energy", Some("joules"), "Energy the GPU consumed since its driver loaded.");
pub static NODE_GPU_TEMPERATURE: Metric = gauge("steward_node_gpu_temperature", Some("celsius"), "GPU temperature.");
pub static NODE_GPU_SM_CLOCK: Metric =
    gauge("steward_node_gpu_sm_clock", Some("hertz"), "GPU streaming multiprocessor clock.");
pub static NODE_GPU_MEMORY_CLOCK: Metric = gauge("steward_node_gpu_memory_clock", Some("hertz"), "GPU memory clock.");

// CPU package energy (powercap/RAPL).
pub static NODE_RAPL_ENERGY: Metric = counter(
    "steward_node_rapl_energy",
    Some("joules"),
    "Energy counter of a RAPL zone (it wraps; rate() handles the reset).",
);
pub static NODE_RAPL_POWER: Metric =
    gauge("steward_node_rapl_power", Some("watts"), "Power of a RAPL zone between the last two samples.");

// Modules (the control center's named groups of processes).
pub static MODULE_CPU_CORES: Metric = gauge(
    "steward_module_cpu_cores",
    None,
    "CPU a module's processes use, in cores (1.5 = one and a half cores busy).",
);
pub static MODULE_RESIDENT_MEMORY: Metric =
    gauge("steward_module_resident_memory", Some("bytes"), "Resident memory of a module's processes.");
pub static MODULE_GPU_MEMORY: Metric =
    gauge("steward_module_gpu_memory", Some("bytes"), "GPU memory a module's processes hold.");
pub static MODULE_POWER_ESTIMATE: Metric = gauge(
    "steward_module_power_estimate",
    Some("watts"),
    "CPU package power times the module's share of busy CPU time: an estimate, not a meter.",
);

// The sampler.
pub static SAMPLER_COLLECTOR_RUNS: Metric = counter("steward_sampler_collector_runs", None, "Times a collector ran.");
pub static SAMPLER_COLLECTOR_SECONDS: Metric =
    counter("steward_sampler_collector", Some("seconds"), "Wall time a collector spent sampling.");
pub static SAMPLER_INTERVAL: Metric =
    gauge("steward_sampler_interval", Some("seconds"), "Interval of the cheap signals in the sampler's current mode.");
pub static HISTORY_SAMPLES_WRITTEN: Metric =
    counter("steward_history_samples_written", None, "Values written to the history database.");

// The scheduler.
pub static SCHEDULER_QUEUED: Metric =
    gauge("steward_scheduler_queued_allocations", None, "Allocations waiting in the queue (pending or suspended).");
pub static SCHEDULER_ALLOCATIONS: Metric = gauge(
    "steward_scheduler_allocations",
    None,
    "Allocations the scheduler holds, by state (running, pending, suspended).",
);
pub static SCHEDULER_DECISIONS: Metric =
    counter("steward_scheduler_decisions", None, "Scheduling decisions since the control center started, by kind.");

// The executor.
pub static DISPATCH_EXECUTIONS: Metric = gauge(
    "steward_dispatch_executions",
    None,
    "Executions in memory that have not ended, by status (waiting, queued for a slot, running).",
);
pub static DISPATCH_ATTEMPTS_STARTED: Metric =
    counter("steward_dispatch_attempts_started", None, "Partition attempts sent to agents.");
pub static DISPATCH_ATTEMPTS_ENDED: Metric =
    counter("steward_dispatch_attempts_ended", None, "Partition attempts that ended, by outcome (succeeded, failed).");
pub static DISPATCH_CANCELS_SENT: Metric =
    counter("steward_dispatch_cancels_sent", None, "Cancel orders sent to agents.");

// Forecasts (backtests of the kept forecasts).
pub static FORECAST_P90_EXCEEDED: Metric = gauge(
    "steward_forecast_p90_exceeded",
    Some("ratio"),
    "Share of backtest outcomes above the p90 band (well calibrated: about 0.1).",
);
pub static FORECAST_UPPER_EXCEEDED: Metric = gauge(
    "steward_forecast_upper_exceeded",
    Some("ratio"),
    "Share of backtest outcomes above the upper recommendation.",
);
pub static FORECAST_UPPER_SLACK: Metric = gauge(
    "steward_forecast_upper_slack",
    Some("ratio"),
    "Mean over-provisioning of the upper recommendation where usage fit under it.",
);
pub static FORECAST_REFITS: Metric = counter("steward_forecast_refits", None, "Forecasts refitted in the background.");
pub static FORECAST_REFIT_SECONDS: Metric =
    counter("steward_forecast_refit", Some("seconds"), "Time spent refitting forecasts.");

/// Every metric, for the docs and the tests that check names.
pub static ALL: &[&Metric] = &[
    &NODE_UP,
    &NODE_SNAPSHOT_TIMESTAMP,
    &NODE_CPU_UTILIZATION,
    &NODE_CPU_CORE_UTILIZATION,
    &NODE_CPU_FREQUENCY,
    &NODE_LOAD1,
    &NODE_LOAD5,
    &NODE_LOAD15,
    &NODE_MEMORY_TOTAL,
    &NODE_MEMORY_AVAILABLE,
    &NODE_MEMORY_USED,
    &NODE_MEMORY_SWAP_TOTAL,
    &NODE_MEMORY_SWAP_USED,
    &NODE_PRESSURE_CPU_WAITING,
    &NODE_PRESSURE_CPU_STALLED,
    &NODE_PRESSURE_MEMORY_WAITING,
    &NODE_PRESSURE_MEMORY_STALLED,
    &NODE_PRESSURE_IO_WAITING,
    &NODE_PRESSURE_IO_STALLED,
    &NODE_FILESYSTEM_SIZE,
    &NODE_FILESYSTEM_AVAIL,
    &NODE_DISK_READ_RATE,
    &NODE_DISK_WRITE_RATE,
    &NODE_DISK_IO_UTILIZATION,
    &NODE_DISK_QUEUE_DEPTH,
    &NODE_NETWORK_RECEIVE,
    &NODE_NETWORK_TRANSMIT,
    &NODE_NETWORK_SPEED,
    &NODE_HWMON_TEMP,
    &NODE_HWMON_TEMP_MAX,
    &NODE_HWMON_TEMP_CRIT,
    &NODE_PROCESSES,
    &NODE_GPU_INFO,
    &NODE_GPU_UTILIZATION,
    &NODE_GPU_MEMORY_UTILIZATION,
    &NODE_GPU_MEMORY_USED,
    &NODE_GPU_MEMORY_TOTAL,
    &NODE_GPU_POWER,
    &NODE_GPU_POWER_LIMIT,
    &NODE_GPU_ENERGY,
    &NODE_GPU_TEMPERATURE,
    &NODE_GPU_SM_CLOCK,
    &NODE_GPU_MEMORY_CLOCK,
    &NODE_RAPL_ENERGY,
    &NODE_RAPL_POWER,
    &MODULE_CPU_CORES,
    &MODULE_RESIDENT_MEMORY,
    &MODULE_GPU_MEMORY,
    &MODULE_POWER_ESTIMATE,
    &SAMPLER_COLLECTOR_RUNS,
    &SAMPLER_COLLECTOR_SECONDS,
    &SAMPLER_INTERVAL,
    &HISTORY_SAMPLES_WRITTEN,
    &SCHEDULER_QUEUED,
    &SCHEDULER_ALLOCATIONS,
    &SCHEDULER_DECISIONS,
    &DISPATCH_EXECUTIONS,
    &DISPATCH_ATTEMPTS_STARTED,
    &DISPATCH_ATTEMPTS_ENDED,
    &DISPATCH_CANCELS_SENT,
    &FORECAST_P90_EXCEEDED,
    &FORECAST_UPPER_EXCEEDED,
    &FORECAST_UPPER_SLACK,
    &FORECAST_REFITS,
    &FORECAST_REFIT_SECONDS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions() {
        for (i, m) in ALL.iter().enumerate() {
            assert!(m.name.starts_with("steward_"), "{}", m.name);
            assert!(m.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{}", m.name);
            let full = m.unit.map_or(m.name.to_string(), |u| format!("{}_{u}", m.name));
            assert!(!full.ends_with("_total"), "{full}: the encoder appends _total to counters");
            assert!(!m.help.is_empty() && m.help.ends_with('.'), "{}", m.name);
            assert!(ALL[..i].iter().all(|o| o.name != m.name || o.unit != m.unit), "{} twice", m.name);
        }
    }
}
