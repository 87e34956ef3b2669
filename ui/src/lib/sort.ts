import type { ProcessStats } from './types';

export type ProcKey = 'pid' | 'name' | 'cpu_pct' | 'rss_bytes' | 'read_bps' | 'write_bps';
export type SortDir = 'asc' | 'desc';

/** Sorted copy; unknown rates (null) always sort last; ties broken by PID. */
export function sortProcesses(rows: ProcessStats[], key: ProcKey, dir: SortDir): ProcessStats[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null && y !== null) return 1;
    if (y === null && x !== null) return -1;
    let c = 0;
    if (typeof x === 'string' && typeof y === 'string') c = x.localeCompare(y);
    else if (x !== null && y !== null) c = (x as number) - (y as number);
    return c !== 0 ? sign * c : a.pid - b.pid;
  });
}

/** Clicking a header: same key flips direction; a new key starts with its natural direction. */
export function nextSort(cur: { key: ProcKey; dir: SortDir }, key: ProcKey): { key: ProcKey; dir: SortDir } {
  if (cur.key === key) return { key, dir: cur.dir === 'asc' ? 'desc' : 'asc' };
  return { key, dir: key === 'name' || key === 'pid' ? 'asc' : 'desc' };
}
