import { describe, expect, it } from 'vitest';
import type { SeriesHistory } from '../types';
import {
  accuracyText,
  amount,
  deepChart,
  deepStatus,
  evidenceText,
  forecastChart,
  forecastStatus,
  matcherFrom,
  moduleFrom,
  sortFindings,
} from './logic';
import type { Finding, SeriesForecast } from './types';

const finding = (key: string, severity: Finding['severity']): Finding => ({
  key,
  resource: 'cpu',
  severity,
  summary: key,
  culprits: [],
  evidence: [],
  since_ms: 0,
});

const ready: SeriesForecast = {
  series: 'cpu.total',
  label: 'CPU',
  unit: '%',
  horizon_ms: 120_000,
  forecast: {
    status: 'ready',
    model: 'holt_damped',
    note: null,
    step_ms: 60_000,
    points: [
      { ts_ms: 180_000, p10: 1, p50: 2, p90: 3 },
      { ts_ms: 240_000, p10: 2, p50: 3, p90: 4 },
    ],
    upper_recommendation: 5,
    baseline_recommendation: 9,
    backtest: { status: 'unavailable', reason: 'backtesting needs 7.5 h of history; there is 3 min' },
  },
};

describe('profiling logic', () => {
  it('orders findings by severity, then key', () => {
    expect(
      sortFindings([finding('b', 'warning'), finding('z', 'critical'), finding('a', 'warning')]).map((f) => f.key),
    ).toEqual(['z', 'a', 'b']);
  });

  it('says evidence with its unit, line and window', () => {
    const text = evidenceText({
      metric: 'cpu.total mean',
      value: 97,
      threshold: 90,
      unit: '%',
      from_ms: 0,
      to_ms: 30_000,
      samples: 10,
    });
    expect(text).toBe('cpu.total mean 97.0 % (line 90.0 %) over 30 s, 10 samples');
    expect(amount(1536 * 1024 * 1024, 'bytes')).toBe('1.50 GiB');
    expect(amount(150, '% of a core')).toBe('150 % of a core');
    expect(amount(NaN, '%')).toBe('—');
  });

  it('puts history before the band and invents nothing', () => {
    const hist: SeriesHistory = {
      series: 'cpu.total',
      source_resolution_ms: 1000,
      bucket_ms: 60_000,
      points: [{ ts_ms: 60_000, min: 0, max: 2, avg: 1 }],
    };
    const c = forecastChart(hist, ready)!;
    expect(c.data[0]).toEqual([60, 180, 240]);
    expect(c.data[1]).toEqual([1, null, null]);
    expect(c.data[3]).toEqual([null, 2, 3]);
    expect(c.data[5]).toEqual([null, 5, 5]);
    const lacking: SeriesForecast = {
      ...ready,
      forecast: {
        status: 'insufficient_history',
        have_ms: 60_000,
        need_ms: 10_800_000,
        reason: 'a 30 min forecast needs 3.0 h of history; there is 1 min',
      },
    };
    expect(forecastChart(hist, lacking)).toBeNull();
    expect(forecastStatus(lacking.forecast)).toContain('needs 3.0 h');
  });

  it('describes accuracy next to the baseline', () => {
    const t = accuracyText({
      origins: 100,
      horizon_ms: 1_800_000,
      p50_mae: 1,
      p90_exceeded_pct: 10,
      upper_exceeded_pct: 3.3,
      upper_slack_pct: 17.4,
      baseline_exceeded_pct: 0.4,
      baseline_slack_pct: 50.1,
      matched_baseline_margin_pct: 20,
      matched_baseline_exceeded_pct: 3.1,
      matched_baseline_slack_pct: 45,
    });
    expect(t).toContain('p90 exceeded 10.0 %');
    expect(t).toContain('17 % slack');
    expect(t).toContain('baseline: 0.4 %, 50 % slack');
  });

  it('builds modules from the editor and refuses bad ones', () => {
    expect(moduleFrom('train', 'command', ' *train.py* ')).toEqual({
      name: 'train',
      matchers: [{ kind: 'command', pattern: '*train.py*' }],
    });
    expect(matcherFrom('pids', '12, 34')).toEqual({ kind: 'pids', pids: [12, 34] });
    expect(matcherFrom('pids', '12, x')).toMatch(/not a list/);
    expect(moduleFrom('a.b', 'user', 'alice')).toMatch(/letters, digits/);
    expect(moduleFrom('ok', 'user', '  ')).toMatch(/needs a value/);
  });
});

describe('deep profile', () => {
  const base = {
    module_name: 'm',
    started_ms: 0,
    ends_ms: 60_000,
    interval_ms: 250,
    pids: [7],
    threads: [],
    note: null,
  };
  it('says the remaining time while running and the length once finished', () => {
    expect(deepStatus({ ...base, state: 'running', remaining_ms: 41_200, samples: 75, series: [] })).toBe(
      'running, 42 s left',
    );
    const done = deepStatus({
      ...base,
      state: 'finished',
      remaining_ms: 0,
      samples: 240,
      series: [],
      note: 'ended early: the module was deleted',
    });
    expect(done).toMatch(/^finished after 1(\.0)? ?min.*240 samples — ended early/);
  });
  it('charts CPU only once readings exist', () => {
    expect(deepChart({ ...base, state: 'running', remaining_ms: 1, samples: 1, series: [] })).toBeNull();
    const point = { ts_ms: 2_000, cpu_pct: 150, rss_bytes: 1, read_bps: null, write_bps: null, threads: 3 };
    expect(deepChart({ ...base, state: 'running', remaining_ms: 1, samples: 2, series: [point] })?.data).toEqual([
      [2],
      [150],
    ]);
  });
});
