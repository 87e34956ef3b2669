import { describe, expect, it } from 'vitest';
import { snapshot } from '../fixtures';
import { CHARTS, chartAvailability, chartTitle, compareSeries, seriesFor, seriesLabel, tableOptions } from './defs';
import { BYTE_INCREMENTS, RATE_INCREMENTS, timeTicks } from '../format';
import { flatten } from './flatten';
import { SeriesTable, mergeHistory } from './table';
import { latestIdxs, typicalStep, withGaps } from './gaps';

const def = (id: string) => CHARTS.find((c) => c.id === id)!;

describe('flatten', () => {
  it('names available values like the Rust side and skips unknown rates', () => {
    const v = flatten(snapshot(1000));
    expect(v.get('cpu.total')).toBe(25);
    expect(v.get('cpu.core.1')).toBe(30);
    expect(v.get('mem.used')).toBe(400);
    expect(v.get('psi.cpu.some')).toBe(1.5);
    expect(v.has('psi.cpu.full')).toBe(false);
    expect(v.get('disk.vda.read_bps')).toBe(100);
    expect(v.has('disk.vda.write_bps')).toBe(false);
    expect(v.get('disk.vda.util')).toBe(12);
    expect(v.has('disk.vda.queue')).toBe(false);
    expect(v.has('net.eth0.rx_bps')).toBe(false);
    expect(v.get('net.eth0.tx_bps')).toBe(3);
    expect(v.get('proc.42.cpu')).toBe(12);
    expect(v.get('proc.42.read_bps')).toBe(10);
    expect([...v.keys()].some((k) => k.startsWith('gpu.'))).toBe(false);
  });
});

describe('chart definitions', () => {
  it('selects and orders series per chart', () => {
    const names = [
      'cpu.core.10',
      'cpu.core.2',
      'cpu.total',
      'cpu.load1',
      'mem.used',
      'gpu.0.util',
      'gpu.0.power_w',
      'rapl.package-0.power_w',
    ];
    expect(seriesFor(def('cpu'), names)).toEqual(['cpu.total', 'cpu.core.2', 'cpu.core.10']);
    expect(seriesFor(def('power'), names)).toEqual(['gpu.0.power_w', 'rapl.package-0.power_w']);
    expect(seriesFor(def('gpu-util'), names)).toEqual(['gpu.0.util']);
    expect(compareSeries('cpu.core.9', 'cpu.core.10')).toBeLessThan(0);
  });
  it('labels series for humans', () => {
    expect(seriesLabel('cpu.core.3')).toBe('core 3');
    expect(seriesLabel('net.eth0.rx_bps')).toBe('eth0 rx');
    expect(seriesLabel('rapl.package-0.power_w')).toBe('package-0');
    expect(seriesLabel('gpu.1.util')).toBe('GPU 1');
  });
  it('reports unavailability with the collector reasons', () => {
    const s = snapshot(1);
    expect(chartAvailability(def('cpu'), s)).toEqual({ available: true });
    expect(chartAvailability(def('gpu-util'), s)).toEqual({
      available: false,
      reasons: [{ source: 'gpus', reason: 'no NVIDIA driver: libnvidia-ml.so not found' }],
    });
    const withGpuList = snapshot(1, { gpus: { status: 'available', value: [] } });
    expect(chartAvailability(def('gpu-util'), withGpuList).available).toBe(false);
    expect(chartAvailability(def('cpu'), null).available).toBe(false);
  });
  it('sizes tables for the range', () => {
    expect(tableOptions('5m', 600).minStepMs).toBe(0);
    expect(tableOptions('7d', 600).minStepMs).toBe(Math.floor((7 * 86_400_000) / 600));
  });
});

describe('SeriesTable', () => {
  const opts = { windowMs: 10_000, minStepMs: 0, maxRows: 100 };
  it('appends live samples, adding columns with null history', () => {
    const t = new SeriesTable(opts);
    t.append(1000, new Map([['a', 1]]));
    t.append(
      2000,
      new Map([
        ['a', 2],
        ['b', 5],
      ]),
    );
    expect(t.ts).toEqual([1000, 2000]);
    expect(t.cols.get('a')).toEqual([1, 2]);
    expect(t.cols.get('b')).toEqual([null, 5]);
    expect(t.append(2000, new Map([['a', 9]]))).toBe(false); // not newer: ignored
    expect(t.length).toBe(2);
    const [xs, a, c] = t.toAligned(['a', 'c']);
    expect(xs).toEqual([1, 2]);
    expect(a).toEqual([1, 2]);
    expect(c).toEqual([null, null]);
  });
  it('drops points that leave the window or exceed the cap', () => {
    const t = new SeriesTable({ ...opts, maxRows: 3 });
    for (let i = 0; i < 5; i++) t.append(i * 1000, new Map([['a', i]]));
    expect(t.ts).toEqual([2000, 3000, 4000]);
    const w = new SeriesTable({ ...opts, windowMs: 1500 });
    for (let i = 0; i < 5; i++) w.append(i * 1000, new Map([['a', i]]));
    expect(w.ts).toEqual([3000, 4000]);
  });
  it('replaces the open tip on long ranges instead of piling up samples', () => {
    const t = new SeriesTable({ ...opts, minStepMs: 5000 });
    t.append(0, new Map([['a', 0]]));
    t.append(1000, new Map([['a', 1]]));
    t.append(2000, new Map([['a', 2]]));
    expect(t.ts).toEqual([0, 2000]);
    expect(t.cols.get('a')).toEqual([0, 2]);
    t.append(6000, new Map([['a', 6]]));
    expect(t.ts).toEqual([0, 2000, 6000]);
  });
  it('loads history merged on the union of timestamps, then keeps appending', () => {
    const t = new SeriesTable(opts);
    t.loadHistory([
      {
        series: 'a',
        source_resolution_ms: 1000,
        bucket_ms: 1000,
        points: [
          { ts_ms: 1000, min: 0, max: 2, avg: 1 },
          { ts_ms: 2000, min: 2, max: 2, avg: 2 },
        ],
      },
      {
        series: 'b',
        source_resolution_ms: 1000,
        bucket_ms: 1000,
        points: [
          { ts_ms: 2000, min: 1, max: 1, avg: 1 },
          { ts_ms: 3000, min: 3, max: 3, avg: 3 },
        ],
      },
    ]);
    expect(t.ts).toEqual([1000, 2000, 3000]);
    expect(t.cols.get('a')).toEqual([1, 2, null]);
    expect(t.cols.get('b')).toEqual([null, 1, 3]);
    t.append(2500, new Map([['a', 7]])); // older than history's end: ignored
    t.append(4000, new Map([['a', 4]]));
    expect(t.ts).toEqual([1000, 2000, 3000, 4000]);
    expect(t.cols.get('a')).toEqual([1, 2, null, 4]);
    expect(t.cols.get('b')).toEqual([null, 1, 3, null]);
  });
  it('merges empty history', () => {
    expect(mergeHistory([])).toEqual({ ts: [], cols: new Map() });
  });
});

import type { Backend } from '../backend';
import { LiveGroup } from './live';

describe('LiveGroup', () => {
  it('reloads from history, buffers live snapshots during the load, then appends', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const queries: unknown[] = [];
    const backend = {
      seriesNames: async (p: string) => (p === 'cpu.' ? ['cpu.total', 'cpu.core.0', 'cpu.load1'] : []),
      history: async (q: { series: string[] }) => {
        queries.push(q);
        await gate;
        return q.series.map((s) => ({
          series: s,
          source_resolution_ms: 1000,
          bucket_ms: 1000,
          points: [{ ts_ms: 1000, min: 1, max: 1, avg: 1 }],
        }));
      },
    } as unknown as Backend;
    const g = new LiveGroup(backend, [CHARTS[0]]);
    const p = g.reload('5m', 300, ['cpu.core.1'], 10_000);
    await Promise.resolve();
    expect(g.push(snapshot(2000))).toBe(false);
    release();
    await p;
    expect(queries[0]).toMatchObject({
      series: ['cpu.total', 'cpu.core.0', 'cpu.core.1'],
      from_ms: 10_000 - 300_000,
      to_ms: 10_000,
      max_points: 300,
    });
    const t = g.tables.get('cpu')!;
    expect(t.ts).toEqual([1000, 2000]);
    expect(t.cols.get('cpu.total')).toEqual([1, 25]);
    expect(g.series.get('cpu')).toEqual(['cpu.total', 'cpu.core.0', 'cpu.core.1']);
    expect(g.push(snapshot(3000))).toBe(true);
    expect(t.length).toBe(3);
  });
  it("shows a remote node's history under its own names, and ignores this machine's live feed", async () => {
    const scope = 'node.10.0.0.2:7879.';
    const queries: { series: string[] }[] = [];
    const backend = {
      seriesNames: async (p: string) => (p === `${scope}cpu.` ? [`${scope}cpu.total`, `${scope}cpu.core.0`] : []),
      history: async (q: { series: string[] }) => {
        queries.push(q);
        return q.series.map((s) => ({
          series: s,
          source_resolution_ms: 1000,
          bucket_ms: 1000,
          points: [{ ts_ms: 1000, min: 7, max: 7, avg: 7 }],
        }));
      },
    } as unknown as Backend;
    const g = new LiveGroup(backend, [CHARTS[0]]);
    g.scope = scope;
    await g.reload('5m', 300, ['cpu.core.5'], 10_000);
    expect(queries[0].series).toEqual([`${scope}cpu.total`, `${scope}cpu.core.0`]);
    expect(g.series.get('cpu')).toEqual(['cpu.total', 'cpu.core.0']);
    expect(g.tables.get('cpu')!.cols.get('cpu.total')).toEqual([7]);
    expect(g.push(snapshot(2000))).toBe(false);
    expect(g.tables.get('cpu')!.length).toBe(1);
  });
});

describe('gaps and legends', () => {
  it('renders a null at a missing sample so the line breaks there', () => {
    const t = new SeriesTable({ windowMs: 3_600_000, minStepMs: 0, maxRows: 1000 });
    // 1 s samples, then a 30 s pause in sampling, then 1 s samples again
    for (const ts of [0, 1000, 2000, 3000, 33_000, 34_000]) t.append(ts, new Map([['cpu.total', ts / 1000]]));
    const [xs, cpu] = t.toAligned(['cpu.total']);
    expect(xs).toEqual([0, 1, 2, 3, 4, 33, 34]);
    expect(cpu).toEqual([0, 1, 2, 3, null, 33, 34]);
  });
  it('does not break a line at slower but regular sampling', () => {
    expect(withGaps([0, 5000, 10_000, 15_000], [[1, 2, 3, 4]]).cols[0]).toEqual([1, 2, 3, 4]);
    expect(withGaps([0, 1000, 6000, 7000], [[1, 2, 3, 4]]).cols[0]).toEqual([1, 2, 3, 4]);
  });
  it('breaks history where buckets are missing', () => {
    const step = 60_000;
    const { ts, cols } = withGaps([0, step, 2 * step, 10 * step, 11 * step], [[1, 1, 1, 1, 1]]);
    expect(ts).toEqual([0, step, 2 * step, 3 * step, 10 * step, 11 * step]);
    expect(cols[0]).toEqual([1, 1, 1, null, 1, 1]);
  });
  it('legends show the latest value of each series, not the last row', () => {
    expect(
      latestIdxs([
        [1, 2, 3],
        [5, 6, null],
        [null, null, null],
        [7, null, 8],
      ]),
    ).toEqual([2, 1, null, 2]);
    expect(typicalStep([0])).toBeUndefined();
  });
});

describe('titles and ticks', () => {
  it('names a chart after the GPU source that keeps it up', () => {
    const s = snapshot(1000);
    const temp = def('temp');
    const gpus = { status: 'available', value: [] } as unknown as typeof s.gpus;
    const noTemps = { ...s, temperatures: { status: 'unavailable', reason: 'no hwmon' }, gpus } as typeof s;
    expect(chartTitle(temp, noTemps)).toBe('GPU temperatures');
    expect(chartTitle(temp, { ...s, temperatures: { status: 'available', value: [] } } as typeof s)).toBe(
      'Temperatures',
    );
    expect(chartTitle(def('cpu'), noTemps)).toBe('CPU');
  });
  it('dates ticks once the axis spans more than a day, and steps bytes in powers of two', () => {
    const day = 86_400;
    expect(timeTicks([0, 2 * day])[0]).toMatch(/^\d\d-\d\d \d\d:\d\d$/);
    expect(timeTicks([0, 300])[0]).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(BYTE_INCREMENTS).toContain(8 * 1024 ** 3);
    expect(RATE_INCREMENTS.slice(0, 4)).toEqual([1, 2, 5, 10]);
    expect(BYTE_INCREMENTS.some((v) => Math.abs(v - 9.3 * 1024 ** 3) < 1e8)).toBe(false);
  });
});
