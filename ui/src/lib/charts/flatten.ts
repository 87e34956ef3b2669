// Mirror of crates/core/src/series.rs `flatten`: a Snapshot as named numeric series.
// Unavailable readings and unknown rates produce no value (never a zero).
import type { Snapshot } from '../types';
import { valueOf } from '../types';

export type Values = Map<string, number>;

export function flatten(snap: Snapshot): Values {
  const out: Values = new Map();
  const push = (name: string, v: number | null | undefined) => {
    if (v !== null && v !== undefined && Number.isFinite(v)) out.set(name, v);
  };
  const cpu = valueOf(snap.cpu);
  if (cpu) {
    push('cpu.total', cpu.total_pct);
    cpu.per_core_pct.forEach((p, i) => push(`cpu.core.${i}`, p));
    push('cpu.load1', cpu.load_avg[0]);
  }
  const m = valueOf(snap.memory);
  if (m) {
    push('mem.used', m.used_bytes);
    push('mem.available', m.available_bytes);
    push('swap.used', m.swap_used_bytes);
  }
  const p = valueOf(snap.pressure);
  if (p) {
    for (const [name, res] of [
      ['cpu', p.cpu],
      ['memory', p.memory],
      ['io', p.io],
    ] as const) {
      const r = valueOf(res);
      if (r) {
        push(`psi.${name}.some`, r.some.avg10);
        if (r.full) push(`psi.${name}.full`, r.full.avg10);
      }
    }
  }
  for (const d of valueOf(snap.disks) ?? []) {
    push(`disk.${d.name}.read_bps`, d.read_bps);
    push(`disk.${d.name}.write_bps`, d.write_bps);
    push(`disk.${d.name}.util`, valueOf(d.util_pct));
    push(`disk.${d.name}.queue`, valueOf(d.queue_depth));
  }
  for (const n of valueOf(snap.networks) ?? []) {
    push(`net.${n.name}.rx_bps`, n.rx_bps);
    push(`net.${n.name}.tx_bps`, n.tx_bps);
  }
  for (const t of valueOf(snap.temperatures) ?? []) push(`temp.${t.sensor}`, t.celsius);
  for (const g of valueOf(snap.gpus) ?? []) {
    const i = g.index;
    push(`gpu.${i}.util`, valueOf(g.utilization_pct));
    push(`gpu.${i}.mem_used`, valueOf(g.memory_used_bytes));
    push(`gpu.${i}.power_w`, valueOf(g.power_w));
    push(`gpu.${i}.temp`, valueOf(g.temperature_c));
    push(`gpu.${i}.sm_clock`, valueOf(g.sm_clock_mhz));
  }
  for (const r of valueOf(snap.rapl) ?? []) push(`rapl.${r.name}.power_w`, r.power_w);
  const e = valueOf(snap.energy);
  for (const src of e?.sources ?? []) {
    const base = `energy.${src.provenance.kind}.${src.id}`;
    push(`${base}.w`, valueOf(src.power_w));
    push(`${base}.cum_j`, src.energy_j);
  }
  if (e) push(`energy.${e.total_provenance.kind}.total.w`, valueOf(e.total_w));
  for (const pr of valueOf(snap.processes)?.top ?? []) {
    push(`proc.${pr.pid}.cpu`, pr.cpu_pct);
    push(`proc.${pr.pid}.rss`, pr.rss_bytes);
    push(`proc.${pr.pid}.read_bps`, pr.read_bps);
    push(`proc.${pr.pid}.write_bps`, pr.write_bps);
  }
  return out;
}
