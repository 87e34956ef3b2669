import type { ProcessStats } from './types';

export type ProcKey = 'pid' | 'name' | 'cpu_pct' | 'rss_bytes' | 'read_bps' | 'write_bps' | 'net_bps';
export type SortDir = 'asc' | 'desc';

/** TCP bytes per second received and sent over every interface; null where not measured
 *  (sockets are dumped only while a link is busy, so most samples have none). */
export function netBps(p: ProcessStats): number | null {
  if (!p.net || p.net.length === 0) return null;
  return p.net.reduce((sum, n) => sum + n.rx_bps + n.tx_bps, 0);
}

function valueAt(p: ProcessStats, key: ProcKey): string | number | null {
  return key === 'net_bps' ? netBps(p) : p[key];
}

/** Sorted copy; unknown rates (null) always sort last; ties broken by PID. */
export function sortProcesses(rows: ProcessStats[], key: ProcKey, dir: SortDir): ProcessStats[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = valueAt(a, key);
    const y = valueAt(b, key);
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
