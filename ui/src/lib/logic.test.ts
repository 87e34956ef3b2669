import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff';
import { proc } from './fixtures';
import { netBps, nextSort, sortProcesses } from './sort';
import { reasonOf, valueOf } from './types';

describe('process sorting', () => {
  const rows = [proc(3, 'b', 5, 100, null), proc(1, 'a', 50, 10, 7), proc(2, 'c', 5, 1000, 1)];
  it('sorts by each column, unknown rates last', () => {
    expect(sortProcesses(rows, 'cpu_pct', 'desc').map((p) => p.pid)).toEqual([1, 2, 3]);
    expect(sortProcesses(rows, 'rss_bytes', 'asc').map((p) => p.pid)).toEqual([1, 3, 2]);
    expect(sortProcesses(rows, 'name', 'asc').map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect(sortProcesses(rows, 'read_bps', 'desc').map((p) => p.pid)).toEqual([1, 2, 3]);
    expect(sortProcesses(rows, 'read_bps', 'asc').map((p) => p.pid)).toEqual([2, 1, 3]);
    expect(sortProcesses(rows, 'pid', 'desc').map((p) => p.pid)).toEqual([3, 2, 1]);
  });
  it('sorts by TCP traffic summed over interfaces, unmeasured last', () => {
    const net = (pid: number, ...bps: [string, number, number][]) => ({
      ...proc(pid, `p${pid}`, 1, 1, null),
      net: bps.map(([iface, rx, tx]) => ({ interface: iface, rx_bps: rx, tx_bps: tx })),
    });
    const withNet = [net(1), net(2, ['eth0', 5, 5]), net(3, ['eth0', 1, 0], ['lo', 20, 0])];
    expect(sortProcesses(withNet, 'net_bps', 'desc').map((p) => p.pid)).toEqual([3, 2, 1]);
    expect(sortProcesses(withNet, 'net_bps', 'asc').map((p) => p.pid)).toEqual([2, 3, 1]);
    expect(netBps(withNet[0])).toBeNull();
    expect(netBps(withNet[2])).toBe(21);
  });
  it('toggles direction on the same header', () => {
    expect(nextSort({ key: 'cpu_pct', dir: 'desc' }, 'cpu_pct')).toEqual({ key: 'cpu_pct', dir: 'asc' });
    expect(nextSort({ key: 'cpu_pct', dir: 'desc' }, 'name')).toEqual({ key: 'name', dir: 'asc' });
    expect(nextSort({ key: 'name', dir: 'asc' }, 'rss_bytes')).toEqual({ key: 'rss_bytes', dir: 'desc' });
  });
});

describe('backoff', () => {
  it('doubles up to a cap', () => {
    const mid = () => 0.5;
    expect(backoffMs(0, {}, mid)).toBe(500);
    expect(backoffMs(1, {}, mid)).toBe(1000);
    expect(backoffMs(3, {}, mid)).toBe(4000);
    expect(backoffMs(20, {}, mid)).toBe(10_000);
    expect(backoffMs(0, {}, () => 0)).toBe(400);
  });
});

describe('readings', () => {
  it('unwraps values and reasons', () => {
    expect(valueOf({ status: 'available', value: 3 })).toBe(3);
    expect(valueOf({ status: 'unavailable', reason: 'x' })).toBeUndefined();
    expect(reasonOf({ status: 'unavailable', reason: 'x' })).toBe('x');
    expect(reasonOf({ status: 'available', value: 1 })).toBeUndefined();
  });
});
