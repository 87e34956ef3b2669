// Test fixtures shaped like the backend's JSON.
import type { ProcessStats, Snapshot } from './types';

export function proc(
  pid: number,
  name: string,
  cpu: number,
  rss: number,
  read: number | null = null,
  write: number | null = null,
): ProcessStats {
  return {
    pid,
    name,
    command: `/usr/bin/${name}`,
    user: 'root',
    cpu_pct: cpu,
    rss_bytes: rss,
    read_bps: read,
    write_bps: write,
  };
}

export function snapshot(ts: number, over: Partial<Snapshot> = {}): Snapshot {
  const un = (reason: string) => ({ status: 'unavailable' as const, reason });
  return {
    ts_ms: ts,
    cpu: {
      status: 'available',
      value: { total_pct: 25, per_core_pct: [20, 30], load_avg: [0.5, 0.4, 0.3], frequency_mhz: un('no cpufreq') },
    },
    memory: {
      status: 'available',
      value: { total_bytes: 1000, used_bytes: 400, available_bytes: 600, swap_total_bytes: 0, swap_used_bytes: 0 },
    },
    pressure: {
      status: 'available',
      value: {
        cpu: { status: 'available', value: { some: { avg10: 1.5, avg60: 1, avg300: 0.5, total_us: 10 }, full: null } },
        memory: un('no psi'),
        io: un('no psi'),
      },
    },
    disks: {
      status: 'available',
      value: [
        {
          name: 'vda',
          mount_point: '/',
          file_system: 'ext4',
          total_bytes: 10,
          available_bytes: 5,
          read_bps: 100,
          write_bps: null,
          util_pct: { status: 'available', value: 12 },
          queue_depth: { status: 'unavailable', reason: 'a rate needs two samples' },
        },
      ],
    },
    networks: {
      status: 'available',
      value: [
        {
          name: 'eth0',
          rx_bytes_total: 1,
          tx_bytes_total: 2,
          rx_bps: null,
          tx_bps: 3,
          link_speed_mbps: un('virtual link'),
        },
      ],
    },
    temperatures: un('no hwmon sensors'),
    processes: {
      status: 'available',
      value: { count: 2, top: [proc(1, 'init', 0.5, 4096), proc(42, 'steward', 12, 1 << 20, 10, null)] },
    },
    gpus: un('no NVIDIA driver: libnvidia-ml.so not found'),
    rapl: un('no powercap'),
    cpufreq: un('no cpufreq'),
    power_sensors: un('no power sensors'),
    energy: un('no energy yet'),
    ...over,
  };
}
