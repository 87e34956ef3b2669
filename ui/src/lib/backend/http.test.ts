import { describe, expect, it, vi } from 'vitest';
import { snapshot } from '../fixtures';
import { HttpBackend, liveUrl } from './http';

function fakeFetch(responses: Record<string, () => Response>) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const f = (async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    const path = new URL(url).pathname + new URL(url).search;
    const r = responses[path];
    if (!r) return new Response(JSON.stringify({ error: `no route ${path}` }), { status: 404 });
    return r();
  }) as unknown as typeof fetch;
  return { f, calls };
}

class FakeWs {
  static all: FakeWs[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  closed = false;
  constructor(public url: string) {
    FakeWs.all.push(this);
  }
  close() {
    this.closed = true;
  }
}

describe('HttpBackend', () => {
  it('speaks the REST contract', async () => {
    const { f, calls } = fakeFetch({
      '/api/snapshot': () => new Response(null, { status: 204 }),
      '/api/series?prefix=proc.': () => Response.json(['proc.1.cpu']),
      '/api/history': () => Response.json([]),
      '/api/visibility': () => new Response(null, { status: 204 }),
    });
    const b = new HttpBackend('http://h:1/', f);
    expect(await b.snapshot()).toBeNull();
    expect(await b.seriesNames('proc.')).toEqual(['proc.1.cpu']);
    const q = { series: ['cpu.total'], from_ms: 1, to_ms: 2, max_points: 3 };
    expect(await b.history(q)).toEqual([]);
    expect(calls.at(-1)!.init!.method).toBe('POST');
    expect(JSON.parse(calls.at(-1)!.init!.body as string)).toEqual(q);
    await b.setVisible(false);
    expect(JSON.parse(calls.at(-1)!.init!.body as string)).toEqual({ visible: false });
  });
  it('shows the server error message', async () => {
    const { f } = fakeFetch({ '/api/status': () => Response.json({ error: 'database is locked' }, { status: 500 }) });
    await expect(new HttpBackend('http://h/', f).status()).rejects.toThrow('database is locked');
    const { f: f2 } = fakeFetch({});
    await expect(new HttpBackend('http://h/', f2).inventory()).rejects.toThrow('no route /api/inventory');
  });
  it('builds the live URL from the page URL', () => {
    expect(liveUrl('http://127.0.0.1:7878/')).toBe('ws://127.0.0.1:7878/api/live');
    expect(liveUrl('https://x/steward/')).toBe('wss://x/steward/api/live');
  });
  it('streams snapshots and reconnects with backoff after a close', () => {
    vi.useFakeTimers();
    FakeWs.all = [];
    const b = new HttpBackend('http://h/', fetch, FakeWs as unknown as typeof WebSocket);
    const got: number[] = [];
    const errs: string[] = [];
    const stop = b.subscribe((s) => got.push(s.ts_ms), (e) => errs.push(e));
    expect(FakeWs.all).toHaveLength(1);
    FakeWs.all[0].onopen!();
    FakeWs.all[0].onmessage!({ data: JSON.stringify(snapshot(5)) });
    expect(got).toEqual([5]);
    FakeWs.all[0].onclose!({ code: 1006, reason: '' });
    expect(errs[0]).toMatch(/disconnected.*reconnecting/);
    vi.advanceTimersByTime(1000);
    expect(FakeWs.all).toHaveLength(2);
    stop();
    expect(FakeWs.all[1].closed).toBe(true);
    FakeWs.all[1].onclose!({ code: 1000, reason: '' });
    vi.advanceTimersByTime(20_000);
    expect(FakeWs.all).toHaveLength(2);
    vi.useRealTimers();
  });
});
