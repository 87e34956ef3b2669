// Pure, unit-tested formatting of human units. Never invent a number: null/undefined/NaN → '—'.

export const DASH = '—';

function bad(v: number | null | undefined): v is null | undefined {
  return v === null || v === undefined || !Number.isFinite(v);
}

function trim(n: number, digits: number): string {
  // 3 significant-ish digits: 1.23, 12.3, 123
  const d = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? Math.min(1, digits) : digits;
  return n.toFixed(d);
}

const BIN_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes in binary units: 1536 → "1.50 KiB". */
export function formatBytes(v: number | null | undefined, digits = 2): string {
  if (bad(v)) return DASH;
  let n = Math.abs(v);
  let i = 0;
  while (n >= 1024 && i < BIN_UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  const sign = v < 0 ? '-' : '';
  return i === 0 ? `${sign}${Math.round(n)} B` : `${sign}${trim(n, digits)} ${BIN_UNITS[i]}`;
}

const DEC_RATE_UNITS = ['B/s', 'kB/s', 'MB/s', 'GB/s', 'TB/s'];

/** Bytes per second in decimal units: 2_500_000 → "2.50 MB/s". */
export function formatRate(v: number | null | undefined, digits = 2): string {
  if (bad(v)) return DASH;
  let n = Math.abs(v);
  let i = 0;
  while (n >= 1000 && i < DEC_RATE_UNITS.length - 1) {
    n /= 1000;
    i++;
  }
  const sign = v < 0 ? '-' : '';
  return i === 0 ? `${sign}${Math.round(n)} B/s` : `${sign}${trim(n, digits)} ${DEC_RATE_UNITS[i]}`;
}

/** Percent: 12.345 → "12.3 %". */
export function formatPct(v: number | null | undefined, digits = 1): string {
  if (bad(v)) return DASH;
  return `${v.toFixed(digits)} %`;
}

/** Watts: 45.678 → "45.7 W"; 1234 → "1.23 kW". */
export function formatWatts(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  if (Math.abs(v) >= 1000) return `${trim(v / 1000, 2)} kW`;
  return `${v.toFixed(1)} W`;
}

/** Joules as energy: 3_600_000 J → "1.00 kWh", 7200 → "2.00 Wh", 12 → "12.0 J". */
export function formatEnergy(j: number | null | undefined): string {
  if (bad(j)) return DASH;
  const wh = j / 3600;
  if (Math.abs(wh) >= 1000) return `${trim(wh / 1000, 2)} kWh`;
  if (Math.abs(wh) >= 1) return `${trim(wh, 2)} Wh`;
  return `${j.toFixed(1)} J`;
}

export function formatCelsius(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  return `${v.toFixed(0)} °C`;
}

/** Megahertz: 2400 → "2.40 GHz", 800 → "800 MHz". */
export function formatMHz(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} GHz`;
  return `${Math.round(v)} MHz`;
}

/** Durations in ms: 1500 → "1.5 s", 90_000 → "1 min 30 s", 3_700_000 → "1 h 1 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (bad(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  const totalS = Math.floor(s);
  const d = Math.floor(totalS / 86400);
  const h = Math.floor((totalS % 86400) / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const sec = totalS % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return sec ? `${m} min ${sec} s` : `${m} min`;
}

/** Plain counts with thousands separators: 1234567 → "1,234,567". */
export function formatCount(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  return Math.round(v).toLocaleString('en-US');
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Local wall-clock time of a UTC epoch-ms timestamp: "14:03:07". */
export function formatClock(tsMs: number | null | undefined): string {
  if (bad(tsMs)) return DASH;
  const d = new Date(tsMs);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local date and time: "2024-05-01 14:03:07". */
export function formatDateTime(tsMs: number | null | undefined): string {
  if (bad(tsMs)) return DASH;
  const d = new Date(tsMs);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(tsMs)}`;
}

/** "3 s ago" style age of a timestamp relative to `nowMs`. */
export function formatAge(tsMs: number | null | undefined, nowMs: number): string {
  if (bad(tsMs)) return DASH;
  const d = Math.max(0, nowMs - tsMs);
  if (d < 1000) return 'just now';
  return `${formatDuration(Math.floor(d / 1000) * 1000)} ago`;
}

/** A value formatter for a chart's unit. */
export type Unit = 'pct' | 'bytes' | 'rate' | 'watts' | 'celsius' | 'mhz' | 'plain';

export function formatUnit(unit: Unit, v: number | null | undefined): string {
  switch (unit) {
    case 'pct':
      return formatPct(v);
    case 'bytes':
      return formatBytes(v);
    case 'rate':
      return formatRate(v);
    case 'watts':
      return formatWatts(v);
    case 'celsius':
      return formatCelsius(v);
    case 'mhz':
      return formatMHz(v);
    default:
      return bad(v) ? DASH : trim(v, 2);
  }
}

/** Short axis labels (fewer digits). */
export function formatAxis(unit: Unit, v: number): string {
  switch (unit) {
    case 'pct':
      return `${Math.round(v)}%`;
    case 'bytes':
      return formatBytes(v, 1);
    case 'rate':
      return formatRate(v, 1);
    case 'watts':
      return `${Math.round(v)} W`;
    case 'celsius':
      return `${Math.round(v)}°`;
    case 'mhz':
      return formatMHz(v);
    default:
      return trim(v, 1);
  }
}

/** Axis steps for byte values: powers of two of each binary unit, so ticks read 4 GiB, 8 GiB, 16 GiB
 *  rather than uPlot's decimal 9.3 GiB, 18.6 GiB. */
export const BYTE_INCREMENTS: number[] = [0, 1, 2, 3, 4, 5].flatMap((k) =>
  [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((m) => m * 1024 ** k),
);

/** Axis steps for rates (decimal units): whole bytes per second and up, so a quiet link's axis
 *  reads 0 B/s, 1 B/s rather than two ticks both rounded to "1 B/s". */
export const RATE_INCREMENTS: number[] = Array.from({ length: 13 }, (_, k) => [1, 2, 5].map((m) => m * 10 ** k)).flat();

/** Local-time tick labels for a chart's x axis (seconds since epoch), detail chosen by span. */
export function timeTicks(splitsSec: number[]): string[] {
  if (splitsSec.length === 0) return [];
  const span = splitsSec[splitsSec.length - 1] - splitsSec[0];
  return splitsSec.map((s) => {
    const d = new Date(s * 1000);
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (span > 86_400) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
    if (span <= 600) return `${hm}:${pad(d.getSeconds())}`;
    return hm;
  });
}
