import { describe, expect, it, vi } from 'vitest';
import { snapshot } from '../fixtures';
import { HttpBackend, downloadBlob, liveUrl } from './http';

function fakeFetch(responses: Record<string, () => Response>) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const f = (async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    const path = new URL(url).pathname + new URL(url).search;
    const r = responses[path];
    if (!r) return Response.json({ kind: 'not_found', message: `no route ${path}` }, { status: 404 });
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
  readyState = 0;
  sent: string[] = [];
  constructor(public url: string) {
    FakeWs.all.push(this);
  }
  send(text: string) {
    this.sent.push(text);
  }
  open() {
    this.readyState = 1;
    this.onopen!();
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
    });
    const b = new HttpBackend('http://h:1/', f);
    expect(await b.snapshot()).toBeNull();
    expect(await b.seriesNames('proc.')).toEqual(['proc.1.cpu']);
    const q = { series: ['cpu.total'], from_ms: 1, to_ms: 2, max_points: 3 };
    expect(await b.history(q)).toEqual([]);
    expect(calls.at(-1)!.init!.method).toBe('POST');
    expect(JSON.parse(calls.at(-1)!.init!.body as string)).toEqual(q);
  });
  it('shows the server error message', async () => {
    const { f } = fakeFetch({
      '/api/status': () => Response.json({ kind: 'internal', message: 'database is locked' }, { status: 500 }),
    });
    await expect(new HttpBackend('http://h/', f).status()).rejects.toThrow('database is locked');
    const { f: f2 } = fakeFetch({});
    await expect(new HttpBackend('http://h/', f2).inventory()).rejects.toThrow('no route /api/inventory');
  });
  it('speaks the allocation contract', async () => {
    const grant = {
      request_id: 'q1',
      timestamp: 't',
      allocation_type: 'reserve',
      result: { success: true, reservation_id: 'r1', start_time: 'a', end_time: 'b' },
    };
    const { f, calls } = fakeFetch({
      '/resources/allocate': () => Response.json(grant),
      '/api/reservations?from=2030-01-01T00%3A00%3A00Z&to=2030-01-02T00%3A00%3A00Z': () => Response.json([]),
      '/api/reservations/r%2F1': () => new Response(null, { status: 204 }),
      '/api/events?limit=5&kind=preemption': () => Response.json([]),
      '/api/allocations/a1': () => new Response(null, { status: 204 }),
    });
    const b = new HttpBackend('http://h:1/', f);
    expect(await b.reservations('2030-01-01T00:00:00Z', '2030-01-02T00:00:00Z')).toEqual([]);
    const body = { allocation_type: 'reserve' as const, reservation_request: { id: 'q1' } as never };
    expect(await b.allocate(body)).toEqual(grant);
    expect(calls.at(-1)!.url).toBe('http://h:1/resources/allocate');
    expect(calls.at(-1)!.init!.method).toBe('POST');
    expect(JSON.parse(calls.at(-1)!.init!.body as string)).toEqual(body);
    await b.deleteReservation('r/1');
    expect(calls.at(-1)!.init!.method).toBe('DELETE');
    expect(await b.events('preemption', 5)).toEqual([]);
    await b.cancelAllocation('a1');
    expect(calls.at(-1)!.init!.method).toBe('DELETE');
  });
  it('names one occurrence of a series by its original start, and reads the series', async () => {
    const { f, calls } = fakeFetch({
      '/api/reservations/d?occurrence=2030-04-01T07%3A00%3A00Z': () => Response.json({ id: 'd' }),
      '/api/reservations/d%402030-04-01T07%3A00%3A00Z': () => Response.json({ id: 'd' }),
    });
    const b = new HttpBackend('http://h:1/', f);
    await b.updateReservation('d', { start_time: 'x' }, '2030-04-01T07:00:00Z');
    expect(calls.at(-1)!.init!.method).toBe('PATCH');
    await b.deleteReservation('d', '2030-04-01T07:00:00Z');
    expect(calls.at(-1)!.init!.method).toBe('DELETE');
    expect(await b.reservation('d@2030-04-01T07:00:00Z')).toEqual({ id: 'd' });
  });
  it('hands the .ics to the browser as a download', async () => {
    const clicked: { href: string; download: string; inPage: boolean }[] = [];
    const body = { append: (a: { inPage: boolean }) => (a.inPage = true) } as unknown as HTMLElement;
    const a = {
      href: '',
      download: '',
      inPage: false,
      click: () => clicked.push({ href: a.href, download: a.download, inPage: a.inPage }),
      remove: () => (a.inPage = false),
    };
    const doc = { createElement: () => a, body } as unknown as Document;
    downloadBlob(new Blob(['BEGIN:VCALENDAR'], { type: 'text/calendar' }), 'steward-reservations.ics', doc);
    expect(clicked).toEqual([
      { href: expect.stringMatching(/^blob:/), download: 'steward-reservations.ics', inPage: true },
    ]);
    expect(a.inPage).toBe(false);
  });
  it('rejects a refused move with the server’s reason, and lists field errors', async () => {
    const { f, calls } = fakeFetch({
      '/api/reservations/r1': () =>
        Response.json({ kind: 'conflict', message: "overlaps reservation 'x' on vm/gpu1" }, { status: 409 }),
      '/resources/allocate': () =>
        Response.json(
          {
            kind: 'invalid_request',
            message: 'invalid request: reservation_request.end_time: before start',
            fields: [{ field: 'reservation_request.end_time', message: 'before start' }],
          },
          { status: 400 },
        ),
    });
    const b = new HttpBackend('http://h/', f);
    const err = await b.updateReservation('r1', { node: 'b' }).catch((e) => e);
    expect(err.message).toContain("overlaps reservation 'x' on vm/gpu1");
    expect(err.status).toBe(409);
    expect(calls.at(-1)!.init!.method).toBe('PATCH');
    expect(JSON.parse(calls.at(-1)!.init!.body as string)).toEqual({ node: 'b' });
    await expect(b.allocate({ allocation_type: 'allocate', allocation_request: {} })).rejects.toThrow(
      'reservation_request.end_time: before start',
    );
  });
  it('speaks the cluster contract and shows a refused token', async () => {
    const { f, calls } = fakeFetch({
      '/api/nodes': () =>
        Response.json(
          { kind: 'invalid_request', message: 'agent 127.0.0.1:7443 refused the token (unauthenticated)' },
          { status: 400 },
        ),
      '/api/nodes/probe': () => Response.json({ address: '127.0.0.1:7443', fingerprint: 'sha256:abcd' }),
      '/api/nodes/n%2F1': () => new Response(null, { status: 204 }),
      '/api/nodes/n1/drain': () => Response.json({}),
      '/api/nodes/n1/undrain': () => Response.json({}),
      '/api/executions/e%2F1/cancel': () => Response.json({}),
      '/api/executions': () => Response.json([]),
    });
    const b = new HttpBackend('http://h/', f);
    expect(await b.probeNode('127.0.0.1:7443')).toEqual({ address: '127.0.0.1:7443', fingerprint: 'sha256:abcd' });
    expect(JSON.parse(calls.at(-1)!.init!.body as string)).toEqual({ address: '127.0.0.1:7443' });
    const req = { address: '127.0.0.1:7443', token: 't', fingerprint: 'sha256:abcd' };
    await expect(b.addNode(req)).rejects.toThrow('refused the token');
    expect(calls.at(-1)!.init!.method).toBe('POST');
    expect(JSON.parse(calls.at(-1)!.init!.body as string)).toEqual(req);
    await b.removeNode('n/1');
    expect(calls.at(-1)!.init!.method).toBe('DELETE');
    await b.drainNode('n1', true);
    expect(calls.at(-1)!.url).toBe('http://h/api/nodes/n1/drain');
    expect(calls.at(-1)!.init!.method).toBe('POST');
    await b.drainNode('n1', false);
    expect(calls.at(-1)!.url).toBe('http://h/api/nodes/n1/undrain');
    await b.cancelExecution('e/1');
    expect(calls.at(-1)!.url).toBe('http://h/api/executions/e%2F1/cancel');
    expect(await b.executions()).toEqual([]);
    const ok = {
      request_id: 'r',
      timestamp: 't',
      operation: 'distribute',
      result: { task_id: 't1', execution_id: 'e1', partitions: [], assignments: [] },
    };
    const { f: f2, calls: c2 } = fakeFetch({ '/resources/distributed': () => Response.json(ok) });
    expect(await new HttpBackend('http://h/', f2).distribute({ command: ['true'] })).toEqual(ok);
    expect(JSON.parse(c2.at(-1)!.init!.body as string)).toEqual({
      operation: 'distribute',
      task: { command: ['true'] },
    });
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
    const stop = b.subscribe(
      (s) => got.push(s.ts_ms),
      (e) => errs.push(e),
    );
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
  it('says visibility on its own live feed, again after a reconnect', async () => {
    FakeWs.all = [];
    const b = new HttpBackend('http://h/', fetch, FakeWs as unknown as typeof WebSocket);
    const stop = b.subscribe(
      () => {},
      () => {},
    );
    FakeWs.all[0].open();
    expect(FakeWs.all[0].sent).toEqual([]);
    await b.setVisible(false);
    expect(FakeWs.all[0].sent).toEqual(['{"visible":false}']);
    FakeWs.all[0].onclose!({ code: 1006, reason: '' });
    vi.useFakeTimers();
    stop();
    const again = b.subscribe(
      () => {},
      () => {},
    );
    FakeWs.all.at(-1)!.open();
    expect(FakeWs.all.at(-1)!.sent).toEqual(['{"visible":false}']);
    await b.setVisible(true);
    expect(FakeWs.all.at(-1)!.sent.at(-1)).toBe('{"visible":true}');
    again();
    vi.useRealTimers();
  });
});

describe('HttpBackend datasets', () => {
  it('lists, registers (name in the path) and removes datasets, showing the server reason', async () => {
    const logs = { name: 'logs', bytes: 5, nodes: ['a:7443'] };
    const { f, calls } = fakeFetch({
      '/api/datasets': () => Response.json([logs]),
      '/api/datasets/logs': () => Response.json(logs),
      '/api/datasets/bad%20name': () =>
        Response.json(
          {
            kind: 'invalid_request',
            message: 'invalid request: name: "bad name" may hold only letters',
            fields: [{ field: 'name', message: '"bad name" may hold only letters' }],
          },
          { status: 400 },
        ),
      '/api/datasets/gone': () => new Response(null, { status: 204 }),
    });
    const b = new HttpBackend('http://h/', f);
    expect(await b.datasets()).toEqual([logs]);
    expect(await b.registerDataset(logs)).toEqual(logs);
    expect(calls.at(-1)!.init!.method).toBe('PUT');
    expect(JSON.parse(calls.at(-1)!.init!.body as string)).toEqual({ bytes: 5, nodes: ['a:7443'] });
    await expect(b.registerDataset({ ...logs, name: 'bad name' })).rejects.toThrow('may hold only letters');
    await b.removeDataset('gone');
    expect(calls.at(-1)!.init!.method).toBe('DELETE');
  });
});
