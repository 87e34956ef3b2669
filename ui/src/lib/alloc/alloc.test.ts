import { describe, expect, it } from 'vitest';
import {
  draftFor,
  draftRequest,
  dropChange,
  eventId,
  fromLocalInput,
  inWords,
  localizeTimes,
  reservationEvents,
  resourceRows,
  rowIndex,
  toLocalInput,
} from './calendar';
import {
  allocationRequest,
  cancellable,
  describeAsk,
  describeResources,
  emptyAllocationDraft,
  groupAllocations,
  mergeHistory,
} from './queue';
import type { Allocation, NodeResources, Reservation } from './wire';

const GiB = 1024 ** 3;
const node = (name: string, gpus: number): NodeResources => ({
  node: name,
  cores: 16,
  memory_bytes: 64 * GiB,
  labels: {},
  gpus: Array.from({ length: gpus }, (_, i) => ({
    id: `${name}/gpu${i}`,
    index: i,
    name: 'Fake A100',
    memory_bytes: 40 * GiB,
    mig: [],
  })),
  accelerators: [],
});
const NODES = [node('vm', 4), node('b', 2)];

const res = (over: Partial<Reservation> = {}): Reservation => ({
  id: 'r1',
  name: 'train',
  owner: 'ada',
  node: 'vm',
  gpus: ['vm/gpu0', 'vm/gpu1'],
  cores: 0,
  memory_bytes: 0,
  start_time: '2030-01-02T09:00:00Z',
  end_time: '2030-01-02T12:00:00Z',
  flags: { overlap: false, ignore_running: false },
  recurrence: null,
  occurrence_of: null,
  occurrence: null,
  exceptions: [],
  ...over,
});

const S = new Date('2030-01-02T10:00:00Z');
const E = new Date('2030-01-02T13:00:00Z');

describe('calendar rows', () => {
  it('nests GPUs under their node', () => {
    const rows = resourceRows(NODES);
    expect(rows.map((r) => r.id)).toEqual(['vm', 'b']);
    expect(rows[0].children!.map((c) => c.id)).toEqual(['vm/gpu0', 'vm/gpu1', 'vm/gpu2', 'vm/gpu3']);
    expect(rows[0].children![2].title).toBe('GPU 2 · Fake A100 · 40 GiB');
    expect(rowIndex(NODES).get('b/gpu1')).toEqual({ id: 'b/gpu1', node: 'b', gpu: { id: 'b/gpu1', index: 1 } });
  });
  it('shows a GPU in MIG mode with its instances as rows under it', () => {
    const mig = node('m', 2);
    mig.gpus[1].mig = [
      { id: 'm/gpu1/mig0', profile: '1g.10gb', memory_bytes: 10 * GiB },
      { id: 'm/gpu1/mig2', profile: '2g.20gb', memory_bytes: 20 * GiB },
    ];
    const gpus = resourceRows([mig])[0].children!;
    expect(gpus.map((g) => g.id)).toEqual(['m/gpu0', 'm/gpu1']);
    expect(gpus[0].children).toBeUndefined();
    expect(gpus[1].title).toBe('GPU 1 · Fake A100 · 40 GiB · MIG mode');
    expect(gpus[1].children!.map((c) => [c.id, c.title, c.extendedProps.kind])).toEqual([
      ['m/gpu1/mig0', 'MIG 1g.10gb · 10.0 GiB', 'mig'],
      ['m/gpu1/mig2', 'MIG 2g.20gb · 20.0 GiB', 'mig'],
    ]);
    expect(rowIndex([mig]).get('m/gpu1/mig2')).toEqual({
      id: 'm/gpu1/mig2',
      node: 'm',
      gpu: { id: 'm/gpu1/mig2', index: 1 },
      mig: '2g.20gb',
    });
    // A piece dropped on an instance row of the same node swaps to that instance.
    const r = { ...res(), node: 'm', gpus: ['m/gpu0'] };
    const moved = dropChange(r, 'm/gpu0', 'm/gpu1/mig0', new Date(), new Date(), [mig]);
    expect(moved).toMatchObject({ change: { gpus: ['m/gpu1/mig0'] } });
  });
  it('puts a reservation on its GPU rows, or on its node row when it has no GPU', () => {
    const [a, b] = reservationEvents([res(), res({ id: 'r2', gpus: [], cores: 4 })]);
    expect(a.resourceIds).toEqual(['vm/gpu0', 'vm/gpu1']);
    expect(a.start.getTime()).toBe(Date.parse('2030-01-02T09:00:00Z'));
    expect(a.editable).toBe(true);
    expect(b.resourceIds).toEqual(['vm']);
  });
  it('gives occurrences distinct ids, kept when one is moved, and lets them be dragged', () => {
    const occ = res({
      id: 'r9@2030-01-02T09:00:00Z',
      occurrence_of: 'r9',
      occurrence: '2030-01-02T09:00:00Z',
      recurrence: { freq: 'daily', until: null, tz: 'Europe/Berlin' },
    });
    expect(eventId(occ)).toBe('r9@2030-01-02T09:00:00Z');
    expect(eventId({ ...occ, start_time: '2030-01-02T14:00:00Z' })).toBe('r9@2030-01-02T09:00:00Z');
    expect(reservationEvents([occ])[0].editable).toBe(true);
  });
});

describe('drag and drop → change', () => {
  it('moves in time only when the row stays', () => {
    expect(dropChange(res(), 'vm/gpu0', 'vm/gpu0', S, E, NODES)).toEqual({
      change: { start_time: '2030-01-02T10:00:00.000Z', end_time: '2030-01-02T13:00:00.000Z' },
    });
  });
  it('swaps the dragged GPU for the target GPU on the same node', () => {
    const c = dropChange(res(), 'vm/gpu1', 'vm/gpu3', S, E, NODES);
    expect(c).toEqual({ change: expect.objectContaining({ gpus: ['vm/gpu0', 'vm/gpu3'] }) });
    expect('change' in c && c.change.node).toBeUndefined();
  });
  it('refuses landing on a GPU it already holds', () => {
    expect(dropChange(res(), 'vm/gpu1', 'vm/gpu0', S, E, NODES)).toEqual({ error: 'train already holds vm/gpu0' });
  });
  it('carries the GPUs to the same indices on another node, or says why not', () => {
    expect(dropChange(res(), 'vm/gpu0', 'b/gpu0', S, E, NODES)).toEqual({
      change: expect.objectContaining({ node: 'b', gpus: ['b/gpu0', 'b/gpu1'] }),
    });
    expect(dropChange(res({ gpus: ['vm/gpu3'] }), 'vm/gpu3', 'b', S, E, NODES)).toEqual({
      error: 'b has no GPU 3 to take vm/gpu3',
    });
  });
  it('moves a GPU-less reservation between nodes, or onto a GPU', () => {
    const r = res({ gpus: [], cores: 4 });
    expect(dropChange(r, 'vm', 'b', S, E, NODES)).toEqual({ change: expect.objectContaining({ node: 'b' }) });
    expect(dropChange(r, 'vm', 'vm/gpu2', S, E, NODES)).toEqual({
      change: expect.objectContaining({ gpus: ['vm/gpu2'] }),
    });
  });
});

describe('the reservation form', () => {
  it('round-trips local wall time through RFC 3339 UTC', () => {
    const d = new Date(2030, 0, 2, 9, 30);
    expect(toLocalInput(d)).toBe('2030-01-02 09:30');
    expect(fromLocalInput('2030-01-02 09:30')).toBe(d.toISOString());
    expect(fromLocalInput('2030-01-02T09:30')).toBe(d.toISOString());
    expect(fromLocalInput('2030-01-02 9:30')).toBe(d.toISOString());
    expect(fromLocalInput('tomorrow')).toBeNull();
  });
  it('prefills node and GPU from the dragged row', () => {
    const d = draftFor(rowIndex(NODES).get('vm/gpu2'), new Date(2030, 0, 2, 9), new Date(2030, 0, 2, 12), 'ada');
    expect(d).toMatchObject({
      node: 'vm',
      gpus: ['vm/gpu2'],
      start: '2030-01-02 09:00',
      end: '2030-01-02 12:00',
      owner: 'ada',
    });
  });
  it('builds the request, with the zone for recurring ones', () => {
    const d = {
      ...draftFor(rowIndex(NODES).get('vm/gpu0'), new Date(2030, 0, 2, 9), new Date(2030, 0, 2, 12), 'ada'),
      name: ' nightly ',
    };
    const out = draftRequest({ ...d, repeat: 'weekly', memory_gib: 1.5 }, 'Europe/Berlin');
    expect(out).toEqual({
      request: expect.objectContaining({
        name: 'nightly',
        gpus: ['vm/gpu0'],
        memory_bytes: 1.5 * GiB,
        start_time: new Date(2030, 0, 2, 9).toISOString(),
        recurrence: { freq: 'weekly', until: null, tz: 'Europe/Berlin' },
      }),
    });
  });
  it('lists every problem of an invalid draft', () => {
    const d = draftFor(undefined, new Date(2030, 0, 2, 12), new Date(2030, 0, 2, 9));
    expect(draftRequest(d)).toEqual({
      errors: [
        'name: required',
        'owner: required',
        'node: choose one',
        'end: must be after start',
        'resources: reserve at least one GPU, core or byte',
      ],
    });
  });
});

describe('queue', () => {
  const a = (id: string, state: Allocation['state']): Allocation => ({
    id,
    owner: 'ada',
    state,
    pending_reason: state === 'pending' ? 'waiting for 2 GPUs' : null,
    priority: 100,
    priority_class: 'normal',
    qos: 'burstable',
    node: 'vm',
    gpus: ['vm/gpu0'],
    cores: 2,
    memory_bytes: 4 * GiB,
    start_time: null,
    end_time: null,
    reservation: null,
    submitted_time: '2030-01-01T00:00:00Z',
    gpu_memory_bytes: null,
    preemption: null,
    preemptions: 0,
    request: {} as Allocation['request'],
  });
  it('sorts allocations into sections, keeping the server order', () => {
    const g = groupAllocations([
      a('1', 'pending'),
      a('2', 'running'),
      a('3', 'suspended'),
      a('4', 'pending'),
      a('5', 'cancelled'),
    ]);
    expect(g.pending.map((x) => x.id)).toEqual(['1', '4']);
    expect(g.running.map((x) => x.id)).toEqual(['2']);
    expect(g.preempted.map((x) => x.id)).toEqual(['3']);
    expect(g.done.map((x) => x.id)).toEqual(['5']);
    expect(cancellable(a('5', 'cancelled'))).toBe(false);
    expect(cancellable(a('3', 'suspended'))).toBe(true);
    expect(cancellable(a('6', 'preempted'))).toBe(false);
  });
  it('orders pending ones as the scheduler tries them: priority, then submit time', () => {
    const at = (id: string, priority: number, submitted: string) => ({
      ...a(id, 'pending'),
      priority,
      submitted_time: submitted,
    });
    const g = groupAllocations([
      at('old-low', 100, '2030-01-01T00:00:00Z'),
      at('new-high', 900, '2030-01-01T00:05:00Z'),
      at('newer-low', 100, '2030-01-01T00:09:00Z'),
      at('old-high', 900, '2030-01-01T00:01:00Z'),
    ]);
    expect(g.pending.map((x) => x.id)).toEqual(['old-high', 'new-high', 'old-low', 'newer-low']);
  });
  it('describes what a pending allocation asks for', () => {
    const pending = {
      request: {
        resources: { gpus: 4, gpu_memory_bytes: null, cores: 2, memory_bytes: 8 * GiB, min: null },
      } as Allocation['request'],
    };
    expect(describeAsk(pending)).toBe('4 GPUs · 2 cores · 8 GiB');
  });
  it('merges preemptions with requeues after a node went down, newest first', () => {
    const e = (id: number, kind: string, time: string) => ({ id, kind, time });
    const merged = mergeHistory(
      [
        [e(1, 'preemption', '2030-01-01T00:00:00Z'), e(5, 'preemption', '2030-01-01T00:03:00Z')],
        [e(7, 'requeued', '2030-01-01T00:02:00Z')],
        [e(8, 'lost', '2030-01-01T00:02:00Z')],
      ],
      3,
    );
    expect(merged.map((x) => x.id)).toEqual([5, 8, 7]);
  });
  it('describes what an allocation holds', () => {
    expect(describeResources(a('1', 'running'))).toBe('1 GPU (vm/gpu0) · 2 cores · 4 GiB');
    expect(describeResources({ gpus: [], cores: 0, memory_bytes: 0 })).toBe('nothing');
  });
});

describe('allocation form', () => {
  it('builds the allocation_request with a class or an integer priority', () => {
    const d = {
      ...emptyAllocationDraft('ada'),
      gpus: 2,
      priority: 'high',
      qos: 'guaranteed' as const,
      duration_h: '1.5',
    };
    expect(allocationRequest(d, 'k1')).toEqual({
      request: {
        id: 'k1',
        owner: 'ada',
        resources: { gpus: 2, cores: 0, memory_bytes: 0 },
        priority: 'high',
        qos: 'guaranteed',
        duration_s: 5400,
        reservation: null,
        preemption: { mode: 'requeue', grace_s: 0 },
      },
    });
    expect(allocationRequest({ ...d, priority: '-20', duration_h: '' }, 'k')).toEqual({
      request: expect.objectContaining({ priority: -20, duration_s: null }),
    });
  });
  it('lists every problem', () => {
    const d = { ...emptyAllocationDraft(), gpus: 0, priority: 'urgent', duration_h: '0' };
    expect(allocationRequest(d, 'k')).toEqual({
      errors: [
        'owner: required',
        'resources: ask for GPUs, cores or memory',
        'priority: a class (critical, high, normal, low, scavenger) or an integer',
        'duration: hours above 0, or empty for an open end',
      ],
    });
  });
});

describe('messages', () => {
  it('shows the server’s RFC 3339 instants in local time', () => {
    const msg = "overlaps reservation 'a' on vm/gpu1 2030-01-01T09:00:00Z–2030-01-01T12:00:00.000Z";
    const fmt = new Intl.DateTimeFormat('en-US', {
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    expect(localizeTimes(msg, 'en-US')).toBe(
      `overlaps reservation 'a' on vm/gpu1 ${fmt.format(Date.parse('2030-01-01T09:00:00Z'))}–${fmt.format(Date.parse('2030-01-01T12:00:00Z'))}`,
    );
    expect(localizeTimes('no time here')).toBe('no time here');
  });
});

describe('inWords', () => {
  it('drops the request path and names ids', () => {
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const names = new Map([[id, 'train']]);
    expect(inWords(`api/reservations/${id}: overlaps reservation ${id}`, names, 'en-GB')).toBe(
      'overlaps reservation "train"',
    );
    expect(inWords(`vm/gpu0 is busy with allocation 7c9e6679-7425-40de-944b-e07fc1f90ae7 until x`)).toBe(
      'vm/gpu0 is busy with an allocation until x',
    );
  });
});
