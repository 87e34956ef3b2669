// Pure helpers of the profiling view: how findings, evidence, forecasts and modules are shown.
import type uPlot from 'uplot';
import { DASH, type Unit, formatBytes, formatDuration, formatRate } from '../format';
import type { SeriesHistory } from '../types';
import type {
  Accuracy,
  DeepProfile,
  Evidence,
  Finding,
  Forecast,
  Matcher,
  ModuleSpec,
  SeriesForecast,
  Severity,
} from './types';

const RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** Most severe first, then by key: the order the server uses, kept when merging. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.key.localeCompare(b.key));
}

/** A value in the unit the backend names (`bytes`, `B/s`, `%`, `% of a core`, `°C`, ...). */
export function amount(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  if (unit === 'bytes') return formatBytes(v);
  if (unit === 'B/s') return formatRate(v);
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1);
  return unit.startsWith('%') ? `${n}${unit === '%' ? ' %' : ` ${unit}`}` : `${n} ${unit}`;
}

/** "cpu.total mean 97.0 % (line 90.0 %) over 30 s, 10 samples". */
export function evidenceText(e: Evidence): string {
  const span = e.to_ms > e.from_ms ? ` over ${formatDuration(e.to_ms - e.from_ms)}` : '';
  return `${e.metric} ${amount(e.value, e.unit)} (line ${amount(e.threshold, e.unit)})${span}, ${e.samples} sample${e.samples === 1 ? '' : 's'}`;
}

/** The chart unit for a forecast's unit. */
export function chartUnit(unit: string): Unit {
  if (unit === 'bytes') return 'bytes';
  if (unit === '%') return 'pct';
  return 'plain';
}

/** "needs 3.0 h of history, has 4 min" for a forecast that is not ready. */
export function forecastStatus(f: Forecast): string {
  if (f.status === 'insufficient_history') return `Not enough history: ${f.reason}`;
  return f.note ? `${f.model} — ${f.note}` : f.model;
}

/** The measured backtest accuracy, beside the baseline's. */
export function accuracyText(a: Accuracy): string {
  return (
    `Backtest at ${formatDuration(a.horizon_ms)} over ${a.origins} forecasts: p90 exceeded ${a.p90_exceeded_pct.toFixed(1)} %, ` +
    `upper recommendation exceeded ${a.upper_exceeded_pct.toFixed(1)} % with ${a.upper_slack_pct.toFixed(0)} % slack ` +
    `(VPA-style baseline: ${a.baseline_exceeded_pct.toFixed(1)} %, ${a.baseline_slack_pct.toFixed(0)} % slack)`
  );
}

export interface ForecastChart {
  data: uPlot.AlignedData;
  names: string[];
  labels: string[];
}

/**
 * Recent history followed by the forecast band: history (avg) on the left, p10/p50/p90 and the
 * upper recommendation on the right, each null where it does not apply (no line is invented).
 */
export function forecastChart(history: SeriesHistory | undefined, f: SeriesForecast): ForecastChart | null {
  if (f.forecast.status !== 'ready') return null;
  const past = history?.points ?? [];
  const future = f.forecast.points;
  const xs = [...past.map((p) => p.ts_ms), ...future.map((p) => p.ts_ms)];
  const n = past.length;
  const col = (pick: (i: number) => number | null) => xs.map((_, i) => pick(i));
  const upper = f.forecast.upper_recommendation;
  return {
    data: [
      xs.map((t) => t / 1000),
      col((i) => (i < n ? past[i].avg : null)),
      col((i) => (i >= n ? future[i - n].p10 : null)),
      col((i) => (i >= n ? future[i - n].p50 : null)),
      col((i) => (i >= n ? future[i - n].p90 : null)),
      col((i) => (i >= n && Number.isFinite(upper) ? upper : null)),
    ],
    names: [`${f.series}.history`, `${f.series}.p10`, `${f.series}.p50`, `${f.series}.p90`, `${f.series}.upper`],
    labels: ['measured', 'p10', 'p50', 'p90', 'upper recommendation'],
  };
}

export type MatcherKind = Matcher['kind'];
export const MATCHER_KINDS: { kind: MatcherKind; label: string; hint: string }[] = [
  { kind: 'executable', label: 'executable', hint: 'python3 or /usr/bin/python3' },
  { kind: 'command', label: 'command line', hint: '*train.py*  (glob: * and ?)' },
  { kind: 'user', label: 'user', hint: 'alice' },
  { kind: 'cgroup', label: 'cgroup prefix', hint: '/system.slice/ollama.service' },
  { kind: 'pids', label: 'PIDs', hint: '1234, 5678' },
];

/** A matcher from the editor's fields, or the reason it is not one. */
export function matcherFrom(kind: MatcherKind, raw: string): Matcher | string {
  const v = raw.trim();
  if (!v) return 'a matcher needs a value';
  switch (kind) {
    case 'executable':
      return { kind, name: v };
    case 'command':
      return { kind, pattern: v };
    case 'user':
      return { kind, name: v };
    case 'cgroup':
      return { kind, prefix: v };
    case 'pids': {
      const parts = v.split(/[\s,]+/).filter(Boolean);
      const pids = parts.map(Number);
      if (pids.some((p) => !Number.isInteger(p) || p <= 0 || p > 4294967295)) return `not a list of PIDs: ${v}`;
      return { kind, pids };
    }
  }
}

export function describeMatcher(m: Matcher): string {
  switch (m.kind) {
    case 'executable':
      return `executable ${m.name}`;
    case 'command':
      return `command ${m.pattern}`;
    case 'user':
      return `user ${m.name}`;
    case 'cgroup':
      return `cgroup ${m.prefix}*`;
    case 'pids':
      return `PIDs ${m.pids.join(', ')}`;
  }
}

/** The same rule as the server's, so the editor can say it before sending. */
export function moduleNameError(name: string): string | null {
  if (!name || name.length > 64) return 'a module name has 1 to 64 characters';
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return 'a module name may hold only letters, digits, _ and -';
  return null;
}

export function moduleFrom(name: string, kind: MatcherKind, value: string): ModuleSpec | string {
  const bad = moduleNameError(name.trim());
  if (bad) return bad;
  const m = matcherFrom(kind, value);
  return typeof m === 'string' ? m : { name: name.trim(), matchers: [m] };
}

/** "running, 42 s left" / "finished after 60 s, 240 samples" (+ the server's note). */
export function deepStatus(p: DeepProfile): string {
  const head =
    p.state === 'running'
      ? `running, ${Math.ceil(p.remaining_ms / 1000)} s left`
      : `finished after ${formatDuration(p.ends_ms - p.started_ms)}, ${p.samples} sample${p.samples === 1 ? '' : 's'}`;
  return p.note ? `${head} — ${p.note}` : head;
}

/** The deep profile's CPU over time (percent of one core); null before two readings exist. */
export function deepChart(p: DeepProfile): ForecastChart | null {
  if (p.series.length === 0) return null;
  return {
    data: [p.series.map((x) => x.ts_ms / 1000), p.series.map((x) => x.cpu_pct)],
    names: [`module.${p.module_name}.deep.cpu`],
    labels: ['CPU (% of a core)'],
  };
}
