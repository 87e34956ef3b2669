//! What a node is: slow-changing facts, collected once at start and on demand (never per second).

use steward_core::{Inventory, Reading};

use crate::SamplerConfig;
use crate::memory::parse_meminfo;
use crate::sysfs::{read_string, read_trimmed, under};

/// `PRETTY_NAME` from os-release, e.g. `Debian GNU/Linux 12 (bookworm)`.
pub fn parse_os_release(text: &str) -> Option<String> {
    text.lines().find_map(|l| Some(l.strip_prefix("PRETTY_NAME=")?.trim().trim_matches('"').to_string()))
}

/// (model name, logical cores, physical cores) from `/proc/cpuinfo`.
pub fn parse_cpuinfo(text: &str) -> (Option<String>, u32, Option<u32>) {
    let mut model = None;
    let mut logical = 0;
    let mut cores = std::collections::HashSet::new();
    let mut phys_id = "";
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else { continue };
        let (k, v) = (k.trim(), v.trim());
        match k {
            "processor" => logical += 1,
            "model name" | "Model" if model.is_none() => model = Some(v.to_string()),
            "physical id" => phys_id = v,
            "core id" => {
                cores.insert(format!("{phys_id}/{v}"));
            }
            _ => {}
        }
    }
    (model, logical, (!cores.is_empty()).then_some(cores.len() as u32))
}

/// Collect the inventory under the sampler's root, NVIDIA GPUs and their topology through its
/// NVML library (when it samples GPUs); `adapters` enumerates wgpu adapters (slow: seconds).
pub fn inventory(sampler: &SamplerConfig, adapters: bool) -> Inventory {
    let root = sampler.root.as_path();
    let cpuinfo = read_string(&under(root, "/proc/cpuinfo")).unwrap_or_default();
    let (model, logical, physical) = parse_cpuinfo(&cpuinfo);
    let logical =
        if logical > 0 { logical } else { std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(0) };
    let os = read_string(&under(root, "/etc/os-release"))
        .or_else(|_| read_string(&under(root, "/usr/lib/os-release")))
        .ok()
        .and_then(|t| parse_os_release(&t))
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    let (gpus, gpu_links) = if sampler.gpus {
        crate::gpu_topology::gpu_topology(sampler.nvml_lib.as_deref())
    } else {
        let off = "GPU collection is turned off";
        (Reading::unavailable(off), Reading::unavailable(off))
    };
    Inventory {
        hostname: read_trimmed(&under(root, "/proc/sys/kernel/hostname")).unwrap_or_default(),
        os,
        kernel: read_trimmed(&under(root, "/proc/sys/kernel/osrelease")).unwrap_or_default(),
        cpu_model: model.unwrap_or_default(),
        logical_cores: logical,
        physical_cores: physical,
        memory_total_bytes: read_string(&under(root, "/proc/meminfo"))
            .ok()
            .and_then(|t| parse_meminfo(&t))
            .map(|m| m.total_bytes)
            .unwrap_or(0),
        adapters: if adapters {
            crate::adapters::enumerate_adapters()
        } else {
            Reading::unavailable("adapter enumeration was not requested")
        },
        gpus,
        gpu_links,
        accelerators: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysfs::tests_support::fixture;

    #[test]
    fn inventory_from_fixture() {
        let config = SamplerConfig { root: fixture("x86_64_a"), gpus: false, ..SamplerConfig::default() };
        let inv = inventory(&config, false);
        assert_eq!(inv.cpu_model, "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz");
        assert_eq!(inv.logical_cores, 4);
        assert_eq!(inv.physical_cores, Some(2));
        assert_eq!(inv.memory_total_bytes, 16265612 * 1024);
        assert!(inv.adapters.reason().is_some());
        assert_eq!(inv.gpus.reason(), Some("GPU collection is turned off"));
    }

    #[test]
    fn os_release() {
        assert_eq!(
            parse_os_release("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }
}
