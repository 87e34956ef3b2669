// The Energy view's logic: provenance in words, watts or the reason there are none, and the
// live stacked power chart fed from successive monitor answers. Plain TS, no Svelte.
import type { EnergyMonitor } from '../bindings/EnergyMonitor';
import type { Provenance } from '../bindings/Provenance';
import type { Reading } from '../bindings/Reading';
import { formatWatts } from '../format';

/** `measured`, `attributed` or `modelled`, with the meter where there is one. */
export function provenanceLabel(p: Provenance): string {
  return p.kind === 'measured' && p.meter ? `measured (${p.meter})` : p.kind;
}

/** The whole story, for a tooltip: the meter, the assumptions, or what it is a share of. */
export function provenanceDetail(p: Provenance): string {
  switch (p.kind) {
    case 'measured':
      return `Measured by ${p.meter || 'a meter'}`;
    case 'modelled':
      return `Estimated: ${p.assumptions}`;
    case 'attributed':
      return `${(p.share * 100).toFixed(1)} % of ${p.of} (${p.basis})`;
  }
}

/** Watts, or why there are none: never a 0 W that was not measured. */
export function wattsText(r: Reading<number>): string {
  return r.status === 'available' ? formatWatts(r.value) : `unavailable: ${r.reason}`;
}

/** One chart row per node total source (`node / source`), in a stable order. */
function counted(m: EnergyMonitor): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of m.nodes) {
    if (n.energy.status !== 'available') continue;
    for (const s of n.energy.value.sources) {
      if (s.in_total && s.power_w.status === 'available') out.set(`${n.node} / ${s.id}`, s.power_w.value);
    }
  }
  return out;
}

/** The last `windowSec` of watts per source, stacked: each line is the sum of those below it. */
export class PowerTrail {
  private rows: { t: number; w: Map<string, number> }[] = [];
  constructor(readonly windowSec = 300) {}

  add(tsMs: number, m: EnergyMonitor) {
    const t = tsMs / 1000;
    this.rows.push({ t, w: counted(m) });
    this.rows = this.rows.filter((r) => r.t > t - this.windowSec);
  }

  /** uPlot data: x then one stacked column per source; a source missing at a time is a gap. */
  chart(): { names: string[]; data: (number | null)[][] } {
    const names = [...new Set(this.rows.flatMap((r) => [...r.w.keys()]))].sort();
    const data: (number | null)[][] = [this.rows.map((r) => r.t)];
    const below = this.rows.map(() => 0);
    for (const name of names) {
      data.push(
        this.rows.map((r, i) => {
          const w = r.w.get(name);
          if (w === undefined) return null;
          below[i] += w;
          return below[i];
        }),
      );
    }
    return { names, data };
  }
}
