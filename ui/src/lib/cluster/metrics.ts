// What a node card shows: four headline metrics read from the node's latest snapshot, and a short
// rolling history of each for the sparklines. Plain TS; the card only draws.
import type { Reading, Snapshot } from '../types';
import type { ClusterNode } from './types';

export type MetricKey = 'cpu' | 'memory' | 'gpu' | 'power';
export const METRICS: { key: MetricKey; label: string; unit: 'pct' | 'watts' }[] = [
  { key: 'cpu', label: 'CPU', unit: 'pct' },
  { key: 'memory', label: 'Memory', unit: 'pct' },
  { key: 'gpu', label: 'GPU', unit: 'pct' },
  { key: 'power', label: 'Power', unit: 'watts' },
];

const un = (reason: string): Reading<number> => ({ status: 'unavailable', reason });
const av = (value: number): Reading<number> => ({ status: 'available', value });

/** The headline metrics of a snapshot; each is unavailable with the reason when its source is. */
export function nodeMetrics(s: Snapshot | null, fromEngine = false): Record<MetricKey, Reading<number>> {
  if (!s) {
    // An engine's node has no metric stream: Slurm reports allocation, not utilization.
    const none = un(fromEngine ? 'Slurm reports no live metrics; run stewardd on the node' : 'no metrics received yet');
    return { cpu: none, memory: none, gpu: none, power: none };
  }
  return { cpu: cpuPct(s), memory: memoryPct(s), gpu: gpuPct(s), power: powerW(s) };
}

function cpuPct(s: Snapshot): Reading<number> {
  return s.cpu.status === 'available' ? av(s.cpu.value.total_pct) : s.cpu;
}

function memoryPct(s: Snapshot): Reading<number> {
  if (s.memory.status === 'unavailable') return s.memory;
  const m = s.memory.value;
  return m.total_bytes > 0 ? av((100 * m.used_bytes) / m.total_bytes) : un('memory total reported as 0');
}

/** Mean utilization of the GPUs that report one. */
function gpuPct(s: Snapshot): Reading<number> {
  if (s.gpus.status === 'unavailable') return s.gpus;
  if (s.gpus.value.length === 0) return un('no GPUs');
  const vals = s.gpus.value.flatMap((g) => (g.utilization_pct.status === 'available' ? [g.utilization_pct.value] : []));
  if (!vals.length) {
    const first = s.gpus.value[0].utilization_pct;
    return un(first.status === 'unavailable' ? first.reason : 'no GPU reports utilization');
  }
  return av(vals.reduce((a, b) => a + b, 0) / vals.length);
}

/** RAPL domains plus GPU board power: the watts this node reports, never a guess. */
function powerW(s: Snapshot): Reading<number> {
  const parts: number[] = [];
  const why: string[] = [];
  if (s.rapl.status === 'available') {
    const w = s.rapl.value.flatMap((r) => (r.power_w === null ? [] : [r.power_w]));
    if (w.length) parts.push(...w);
    else why.push(s.rapl.value.length ? 'RAPL power needs two samples' : 'no RAPL domains');
  } else why.push(s.rapl.reason);
  if (s.gpus.status === 'available') {
    for (const g of s.gpus.value) if (g.power_w.status === 'available') parts.push(g.power_w.value);
  } else why.push(s.gpus.reason);
  return parts.length ? av(parts.reduce((a, b) => a + b, 0)) : un(why.join('; '));
}

export interface Point {
  ts: number;
  v: number | null;
}

/** A rolling window of each node's metrics, fed by the node list on every poll. */
export class NodeSeries {
  private readonly byNode = new Map<string, { lastTs: number; series: Record<MetricKey, Point[]> }>();

  constructor(readonly windowMs = 60_000) {}

  /** Appends each node's latest snapshot once (a repeated `ts_ms` is not a new sample); forgets
   *  nodes no longer listed. Returns whether anything changed. */
  update(nodes: ClusterNode[]): boolean {
    let changed = false;
    const ids = new Set(nodes.map((n) => n.id));
    for (const id of [...this.byNode.keys()])
      if (!ids.has(id)) {
        this.byNode.delete(id);
        changed = true;
      }
    for (const n of nodes) {
      const s = n.latest;
      if (!s) continue;
      let e = this.byNode.get(n.id);
      if (!e) {
        e = { lastTs: -Infinity, series: { cpu: [], memory: [], gpu: [], power: [] } };
        this.byNode.set(n.id, e);
      }
      if (s.ts_ms <= e.lastTs) continue;
      e.lastTs = s.ts_ms;
      const m = nodeMetrics(s);
      for (const k of Object.keys(m) as MetricKey[]) {
        const r = m[k];
        const pts = e.series[k];
        pts.push({ ts: s.ts_ms, v: r.status === 'available' ? r.value : null });
        while (pts.length && pts[0].ts < s.ts_ms - this.windowMs) pts.shift();
      }
      changed = true;
    }
    return changed;
  }

  /** A copy: views compare by identity to know when to redraw. */
  points(nodeId: string, key: MetricKey): Point[] {
    return this.byNode.get(nodeId)?.series[key].slice() ?? [];
  }
}

/**
 * An SVG path for a sparkline of `points` over the last `windowMs` ending at the newest point.
 * Unknown values (null) break the line rather than drawing a made-up 0. `yMax` null scales to the
 * data (for watts).
 */
export function sparkPath(
  points: Point[],
  width: number,
  height: number,
  windowMs: number,
  yMax: number | null,
): string {
  if (!points.length) return '';
  const end = points[points.length - 1].ts;
  const known = points.flatMap((p) => (p.v === null ? [] : [p.v]));
  const top = yMax ?? Math.max(1e-9, ...known) * 1.1;
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p.v === null) {
      pen = false;
      continue;
    }
    const x = width - ((end - p.ts) / windowMs) * width;
    // 1 px inside the box, so 0 % and 100 % stay visible.
    const y = height - 1 - (Math.min(Math.max(p.v, 0), top) / top) * (height - 2);
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)} `;
    pen = true;
  }
  return d.trim();
}
