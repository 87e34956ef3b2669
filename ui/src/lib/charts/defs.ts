// Which series go into which overview chart, and how they are labelled.
import type { Unit } from '../format';
import type { Snapshot } from '../types';

export type SourceKey = 'cpu' | 'memory' | 'pressure' | 'disks' | 'networks' | 'temperatures' | 'gpus' | 'rapl';

export interface ChartDef {
  id: string;
  title: string;
  unit: Unit;
  /** Prefixes to ask the backend's series list for when loading history. */
  prefixes: string[];
  match: (name: string) => boolean;
  /** Readings whose availability decides whether the chart is shown. Any available → shown. */
  sources: SourceKey[];
  /** Fixed y range, e.g. 0–100 for percentages. */
  yRange?: [number, number];
}

const re = (r: RegExp) => (n: string) => r.test(n);

export const CHARTS: ChartDef[] = [
  {
    id: 'cpu',
    title: 'CPU',
    unit: 'pct',
    prefixes: ['cpu.'],
    match: re(/^cpu\.(total|core\.\d+)$/),
    sources: ['cpu'],
    yRange: [0, 100],
  },
  {
    id: 'memory',
    title: 'Memory',
    unit: 'bytes',
    prefixes: ['mem.', 'swap.'],
    match: re(/^(mem\.(used|available)|swap\.used)$/),
    sources: ['memory'],
  },
  {
    id: 'disk',
    title: 'Disk I/O',
    unit: 'rate',
    prefixes: ['disk.'],
    match: re(/^disk\..+\.(read|write)_bps$/),
    sources: ['disks'],
  },
  {
    id: 'net',
    title: 'Network',
    unit: 'rate',
    prefixes: ['net.'],
    match: re(/^net\..+\.(rx|tx)_bps$/),
    sources: ['networks'],
  },
  {
    id: 'gpu-util',
    title: 'GPU utilization',
    unit: 'pct',
    prefixes: ['gpu.'],
    match: re(/^gpu\.\d+\.util$/),
    sources: ['gpus'],
    yRange: [0, 100],
  },
  {
    id: 'gpu-mem',
    title: 'GPU memory',
    unit: 'bytes',
    prefixes: ['gpu.'],
    match: re(/^gpu\.\d+\.mem_used$/),
    sources: ['gpus'],
  },
  {
    id: 'power',
    title: 'Power',
    unit: 'watts',
    prefixes: ['rapl.', 'gpu.'],
    match: re(/^(rapl\..+|gpu\.\d+)\.power_w$/),
    sources: ['rapl', 'gpus'],
  },
  {
    id: 'psi',
    title: 'Pressure (PSI avg10)',
    unit: 'pct',
    prefixes: ['psi.'],
    match: re(/^psi\.(cpu|memory|io)\.(some|full)$/),
    sources: ['pressure'],
  },
  {
    id: 'temp',
    title: 'Temperatures',
    unit: 'celsius',
    prefixes: ['temp.', 'gpu.'],
    match: re(/^(temp\..+|gpu\.\d+\.temp)$/),
    sources: ['temperatures', 'gpus'],
  },
];

export const SOURCE_TITLES: Record<SourceKey, string> = {
  cpu: 'CPU',
  memory: 'Memory',
  pressure: 'Pressure (PSI)',
  disks: 'Disks',
  networks: 'Network',
  temperatures: 'Temperatures',
  gpus: 'GPUs',
  rapl: 'RAPL power',
};

export type ChartAvailability =
  { available: true } | { available: false; reasons: { source: SourceKey; reason: string }[] };

/** A chart is shown when any of its sources is available in the snapshot; else the reasons. */
export function chartAvailability(def: ChartDef, snap: Snapshot | null): ChartAvailability {
  if (!snap) return { available: false, reasons: def.sources.map((s) => ({ source: s, reason: 'no sample yet' })) };
  const reasons: { source: SourceKey; reason: string }[] = [];
  for (const s of def.sources) {
    const r = snap[s];
    if (r.status === 'available') {
      // An empty GPU list is not a GPU chart.
      if (Array.isArray(r.value) && r.value.length === 0) {
        reasons.push({ source: s, reason: 'none present' });
        continue;
      }
      return { available: true };
    }
    reasons.push({ source: s, reason: r.reason });
  }
  return { available: false, reasons };
}

/** A chart's title for what it can show now: a chart kept up by its GPU source alone (the
 *  machine's own sensors unavailable) says so, so it never sits beside a card saying its
 *  subject is unavailable without explanation. */
export function chartTitle(def: ChartDef, snap: Snapshot | null): string {
  if (!snap || !def.sources.includes('gpus') || def.sources.length < 2) return def.title;
  const own = def.sources.filter((s) => s !== 'gpus');
  const ownAvailable = own.some((s) => snap[s].status === 'available');
  return ownAvailable ? def.title : `GPU ${def.title.toLowerCase()}`;
}

function naturalKey(name: string): (string | number)[] {
  return name.split(/(\d+)/).map((p, i) => (i % 2 ? Number(p) : p));
}

/** Natural order ("cpu.core.2" < "cpu.core.10"), with totals first. */
export function compareSeries(a: string, b: string): number {
  const ta = a.endsWith('.total') ? 0 : 1;
  const tb = b.endsWith('.total') ? 0 : 1;
  if (ta !== tb) return ta - tb;
  const ka = naturalKey(a);
  const kb = naturalKey(b);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const x = ka[i];
    const y = kb[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return ka.length - kb.length;
}

export function seriesFor(def: ChartDef, names: Iterable<string>): string[] {
  return [...new Set([...names].filter(def.match))].sort(compareSeries);
}

/** Human label of a series inside its chart. */
export function seriesLabel(name: string): string {
  let m: RegExpMatchArray | null;
  if (name === 'cpu.total') return 'total';
  if ((m = name.match(/^cpu\.core\.(\d+)$/))) return `core ${m[1]}`;
  if (name === 'mem.used') return 'used';
  if (name === 'mem.available') return 'available';
  if (name === 'swap.used') return 'swap used';
  if ((m = name.match(/^disk\.(.+)\.(read|write)_bps$/))) return `${m[1]} ${m[2]}`;
  if ((m = name.match(/^net\.(.+)\.(rx|tx)_bps$/))) return `${m[1]} ${m[2]}`;
  if ((m = name.match(/^gpu\.(\d+)\.(\w+)$/)))
    return `GPU ${m[1]}${m[2] === 'util' || m[2] === 'mem_used' ? '' : ' ' + m[2].replace('_w', '')}`;
  if ((m = name.match(/^rapl\.(.+)\.power_w$/))) return m[1];
  if ((m = name.match(/^psi\.(\w+)\.(some|full)$/))) return `${m[1]} ${m[2]}`;
  if ((m = name.match(/^temp\.(.+)$/))) return m[1];
  if ((m = name.match(/^proc\.\d+\.(\w+)$/))) return m[1];
  return name;
}

export type RangeKey = '5m' | '1h' | '24h' | '7d';
export const RANGES: { key: RangeKey; label: string; ms: number }[] = [
  { key: '5m', label: '5 min', ms: 5 * 60_000 },
  { key: '1h', label: '1 h', ms: 3_600_000 },
  { key: '24h', label: '24 h', ms: 86_400_000 },
  { key: '7d', label: '7 d', ms: 7 * 86_400_000 },
];

export function rangeMs(key: RangeKey): number {
  return RANGES.find((r) => r.key === key)!.ms;
}

/** Table bounds for a range at a chart width in points. */
export function tableOptions(range: RangeKey, maxPoints: number) {
  const ms = rangeMs(range);
  const points = Math.max(50, Math.round(maxPoints));
  return {
    windowMs: ms,
    minStepMs: ms <= 5 * 60_000 ? 0 : Math.floor(ms / points),
    maxRows: Math.max(points * 2, 600),
  };
}
