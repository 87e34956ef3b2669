// A time-aligned table of series for one chart: the x column (ms) and one column per series.
// Filled from history, then appended to from live snapshots; bounded by time window and count.
import type { SeriesHistory } from '../types';
import { withGaps } from './gaps';

export type Column = (number | null)[];

export interface TableOptions {
  /** Points older than (newest − windowMs) are dropped on append. */
  windowMs: number;
  /** Live points closer than this to the point before the last one replace the last one,
   *  so long ranges do not fill up with 1 s samples. 0 = always append. */
  minStepMs: number;
  /** Hard cap on rows; the oldest are dropped first. */
  maxRows: number;
}

export class SeriesTable {
  ts: number[] = [];
  readonly cols = new Map<string, Column>();
  constructor(public opts: TableOptions) {}

  get length(): number {
    return this.ts.length;
  }

  get names(): string[] {
    return [...this.cols.keys()];
  }

  get lastTs(): number | undefined {
    return this.ts.length ? this.ts[this.ts.length - 1] : undefined;
  }

  private column(name: string): Column {
    let c = this.cols.get(name);
    if (!c) {
      c = new Array(this.ts.length).fill(null);
      this.cols.set(name, c);
    }
    return c;
  }

  /** Append one live sample. Values for unknown series add a column (null in the past).
   *  Samples not newer than the last row are ignored (history already covers them). */
  append(tsMs: number, values: Map<string, number>): boolean {
    const last = this.lastTs;
    if (last !== undefined && tsMs <= last) return false;
    for (const name of values.keys()) this.column(name);
    const n = this.ts.length;
    const replace = n >= 2 && this.opts.minStepMs > 0 && tsMs - this.ts[n - 2] < this.opts.minStepMs;
    if (replace) {
      this.ts[n - 1] = tsMs;
      for (const [name, col] of this.cols) col[n - 1] = values.get(name) ?? null;
    } else {
      this.ts.push(tsMs);
      for (const [name, col] of this.cols) col.push(values.get(name) ?? null);
    }
    this.trim(tsMs);
    return true;
  }

  private trim(newest: number) {
    let drop = 0;
    const cutoff = newest - this.opts.windowMs;
    while (drop < this.ts.length && this.ts[drop] < cutoff) drop++;
    drop = Math.max(drop, this.ts.length - this.opts.maxRows);
    if (drop > 0) {
      this.ts.splice(0, drop);
      for (const col of this.cols.values()) col.splice(0, drop);
    }
  }

  /** Replace the content with history (bucket averages), merged on the union of timestamps. */
  loadHistory(histories: SeriesHistory[]) {
    const { ts, cols } = mergeHistory(histories);
    this.ts = ts;
    this.cols.clear();
    for (const [k, v] of cols) this.cols.set(k, v);
    const last = this.lastTs;
    if (last !== undefined) this.trim(last);
  }

  clear() {
    this.ts = [];
    this.cols.clear();
  }

  /** uPlot's aligned data: x in seconds, then the requested columns in order, with a null row
   *  where samples are missing so the lines break there. */
  toAligned(names: string[]): [number[], ...Column[]] {
    const picked = names.map((n) => this.cols.get(n) ?? new Array(this.ts.length).fill(null));
    const { ts, cols } = withGaps(this.ts, picked);
    return [ts.map((t) => t / 1000), ...cols];
  }
}

/** Merge per-series history into aligned columns on the sorted union of timestamps. */
export function mergeHistory(histories: SeriesHistory[]): { ts: number[]; cols: Map<string, Column> } {
  const all = new Set<number>();
  for (const h of histories) for (const p of h.points) all.add(p.ts_ms);
  const ts = [...all].sort((a, b) => a - b);
  const index = new Map(ts.map((t, i) => [t, i]));
  const cols = new Map<string, Column>();
  for (const h of histories) {
    const col: Column = cols.get(h.series) ?? new Array(ts.length).fill(null);
    for (const p of h.points) {
      if (Number.isFinite(p.avg)) col[index.get(p.ts_ms)!] = p.avg;
    }
    cols.set(h.series, col);
  }
  return { ts, cols };
}
