// Missing samples as gaps: uPlot breaks a line only at a null, so a pause in sampling (or a
// stretch with no history) would otherwise be drawn as a straight ramp between its two ends.
import type { Column } from './table';

/** A step this many times the typical one (and at least `MIN_GAP_MS`) is a gap. */
const GAP_FACTOR = 3;
/** Hidden-tab sampling (5 s) and 10 s history are not gaps on a 1 s chart. */
const MIN_GAP_MS = 12_000;

/** The median step between timestamps (ms), or undefined with fewer than two. */
export function typicalStep(ts: number[]): number | undefined {
  if (ts.length < 2) return undefined;
  const steps = ts
    .slice(1)
    .map((t, i) => t - ts[i])
    .sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)];
}

/** The rows with a null row inserted one typical step after each sample followed by a gap. */
export function withGaps(ts: number[], cols: Column[]): { ts: number[]; cols: Column[] } {
  const step = typicalStep(ts);
  if (step === undefined || step <= 0) return { ts, cols };
  const gap = Math.max(GAP_FACTOR * step, MIN_GAP_MS);
  const outTs: number[] = [];
  const outCols: Column[] = cols.map(() => []);
  for (let i = 0; i < ts.length; i++) {
    if (i > 0 && ts[i] - ts[i - 1] > gap) {
      outTs.push(ts[i - 1] + step);
      for (const c of outCols) c.push(null);
    }
    outTs.push(ts[i]);
    cols.forEach((c, k) => outCols[k].push(c[i]));
  }
  return { ts: outTs, cols: outCols };
}

/** Per uPlot series (x first), the index of its latest non-null value: what a legend shows
 *  when the cursor is not on the chart. */
export function latestIdxs(data: readonly ArrayLike<number | null | undefined>[]): (number | null)[] {
  return Array.from(data, (col, s) => {
    if (s === 0) return col.length ? col.length - 1 : null;
    for (let i = col.length - 1; i >= 0; i--) if (col[i] != null) return i;
    return null;
  });
}
