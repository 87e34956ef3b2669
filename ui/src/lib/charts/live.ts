// A group of charts fed from history then from live snapshots. Plain TS, no Svelte.
import type { Backend } from '../backend';
import type { Snapshot } from '../types';
import { type RangeKey, compareSeries, rangeMs, tableOptions } from './defs';
import { type Values, flatten } from './flatten';
import { SeriesTable } from './table';

export interface GroupChart {
  id: string;
  match: (name: string) => boolean;
  /** Backend series-list prefixes to look up history names with. */
  prefixes: string[];
  /** Series always asked for (e.g. one process's series). */
  fixed?: string[];
}

export class LiveGroup {
  readonly tables = new Map<string, SeriesTable>();
  /** Series per chart, in display order. */
  readonly series = new Map<string, string[]>();
  private loadSeq = 0;
  private loading = false;
  private pending: Snapshot[] = [];
  range: RangeKey = '5m';
  /** Whose series: '' for this machine, `node.<id>.` for a remote node's history. Charts and
   *  tables always use the unscoped names, so labels, colors and matching stay the same. */
  scope = '';

  constructor(
    private readonly backend: Backend,
    readonly charts: GroupChart[],
  ) {
    for (const c of charts) {
      this.tables.set(c.id, new SeriesTable(tableOptions('5m', 600)));
      this.series.set(c.id, [...(c.fixed ?? [])]);
    }
  }

  /** Reload every chart from history for `range`; live snapshots arriving meanwhile are applied after.
   *  `liveNames` are the series the latest snapshot has (so a fresh backend still gets its charts). */
  async reload(range: RangeKey, maxPoints: number, liveNames: Iterable<string>, nowMs = Date.now()): Promise<void> {
    const seq = ++this.loadSeq;
    this.loading = true;
    this.range = range;
    try {
      const prefixes = [...new Set(this.charts.flatMap((c) => c.prefixes))];
      const scope = this.scope;
      const listed = await Promise.all(
        prefixes.map((p) => this.backend.seriesNames(scope + p).catch(() => [] as string[])),
      );
      const unscoped = listed.flat().map((n) => n.slice(scope.length));
      const known = new Set<string>([...(scope ? [] : liveNames), ...unscoped]);
      const perChart = new Map<string, string[]>();
      for (const c of this.charts) {
        const names = new Set([...(c.fixed ?? []), ...[...known].filter(c.match)]);
        perChart.set(c.id, [...names].sort(compareSeries));
      }
      const all = [...new Set([...perChart.values()].flat())];
      const histories = all.length
        ? await this.backend.history({
            series: all.map((n) => scope + n),
            from_ms: nowMs - rangeMs(range),
            to_ms: nowMs,
            max_points: Math.max(10, Math.round(maxPoints)),
          })
        : [];
      if (seq !== this.loadSeq) return; // a newer reload superseded this one
      const byName = new Map(
        histories.map((h) => [h.series.slice(scope.length), { ...h, series: h.series.slice(scope.length) }]),
      );
      for (const c of this.charts) {
        const t = this.tables.get(c.id)!;
        t.opts = tableOptions(range, maxPoints);
        const names = perChart.get(c.id)!;
        t.loadHistory(names.map((n) => byName.get(n)).filter((h) => h !== undefined));
        // keep columns for series without history so the chart's legend is stable
        this.series.set(c.id, names);
      }
    } finally {
      if (seq === this.loadSeq) {
        this.loading = false;
        const p = this.pending;
        this.pending = [];
        for (const s of p) this.push(s);
      }
    }
  }

  /** Append one live snapshot to every chart. Returns false while a reload is in flight (buffered). */
  push(snap: Snapshot, values: Values = flatten(snap)): boolean {
    if (this.scope) return false; // the live feed is this machine's; a remote node's comes from history
    if (this.loading) {
      this.pending.push(snap);
      return false;
    }
    for (const c of this.charts) {
      const mine = new Map<string, number>();
      for (const [k, v] of values) if (c.match(k)) mine.set(k, v);
      const t = this.tables.get(c.id)!;
      t.append(snap.ts_ms, mine);
      const cur = this.series.get(c.id)!;
      if ([...mine.keys()].some((k) => !cur.includes(k))) {
        this.series.set(c.id, [...new Set([...cur, ...mine.keys()])].sort(compareSeries));
      }
    }
    return true;
  }
}
