import { describe, expect, it, vi } from 'vitest';
import { snapshot } from '../fixtures';
import type { Snapshot } from '../types';
import { datasetFromForm, datasetNodeState, parseNodes, parseSize } from './datasets';
import { EMPTY_FORM, splitArgs, taskFromForm } from './distribute';
import {
  cutText,
  isFinished,
  limitsText,
  orderedPartitions,
  triesText,
  progressText,
  sortExecutions,
  stateTone,
  summarize,
  summaryText,
} from './executions';
import { NodeSeries, nodeMetrics, sparkPath } from './metrics';
import {
  accelerators,
  addressProblem,
  confirmProblem,
  engineUsage,
  fingerprintsMatch,
  normalizeFingerprint,
  sortNodes,
  stateDetail,
} from './nodes';
import { poll } from './poll';
import type { ClusterNode, Execution, PartitionStatus } from './types';

const node = (id: string, over: Partial<ClusterNode> = {}): ClusterNode => ({
  id,
  address: `${id}:7443`,
  name: id,
  state: 'up',
  phi: null,
  last_heartbeat_ms: null,
  error: null,
  fingerprint: null,
  limits_mechanism: null,
  engine: null,
  inventory: null,
  latest: null,
  ...over,
});

const gpu = (index: number, util: number | null, power: number | null) => ({
  index,
  uuid: `GPU-${index}`,
  name: `Fake GPU ${index}`,
  utilization_pct:
    util === null
      ? { status: 'unavailable' as const, reason: 'not supported' }
      : { status: 'available' as const, value: util },
  memory_utilization_pct: { status: 'unavailable' as const, reason: 'x' },
  memory_used_bytes: { status: 'unavailable' as const, reason: 'x' },
  memory_total_bytes: { status: 'unavailable' as const, reason: 'x' },
  power_w:
    power === null
      ? { status: 'unavailable' as const, reason: 'no power sensor' }
      : { status: 'available' as const, value: power },
  power_limit_w: { status: 'unavailable' as const, reason: 'x' },
  energy_j: { status: 'unavailable' as const, reason: 'x' },
  temperature_c: { status: 'unavailable' as const, reason: 'x' },
  sm_clock_mhz: { status: 'unavailable' as const, reason: 'x' },
  memory_clock_mhz: { status: 'unavailable' as const, reason: 'x' },
  throttle_reasons: { status: 'unavailable' as const, reason: 'x' },
  processes: { status: 'unavailable' as const, reason: 'x' },
  mig: { status: 'unavailable' as const, reason: 'x' },
});

describe('node metrics', () => {
  it('reads CPU and memory, and says why GPU and power are unavailable', () => {
    const m = nodeMetrics(snapshot(1));
    expect(m.cpu).toEqual({ status: 'available', value: 25 });
    expect(m.memory).toEqual({ status: 'available', value: 40 });
    expect(m.gpu).toEqual({ status: 'unavailable', reason: 'no NVIDIA driver: libnvidia-ml.so not found' });
    expect(m.power).toEqual({
      status: 'unavailable',
      reason: 'no powercap; no NVIDIA driver: libnvidia-ml.so not found',
    });
    expect(nodeMetrics(null).cpu).toEqual({ status: 'unavailable', reason: 'no metrics received yet' });
  });
  it('averages GPUs that report utilization and sums RAPL with GPU board power', () => {
    const s = snapshot(1, {
      gpus: { status: 'available', value: [gpu(0, 50, 100), gpu(1, null, null), gpu(2, 100, 50)] },
      rapl: {
        status: 'available',
        value: [{ zone: 'intel-rapl:0', name: 'package-0', energy_j: 1, max_energy_j: 2, power_w: 30 }],
      },
    });
    const m = nodeMetrics(s);
    expect(m.gpu).toEqual({ status: 'available', value: 75 });
    expect(m.power).toEqual({ status: 'available', value: 180 });
  });
  it('never turns a missing power reading into 0', () => {
    const s = snapshot(1, {
      gpus: { status: 'available', value: [] },
      rapl: {
        status: 'available',
        value: [{ zone: 'z', name: 'package-0', energy_j: 1, max_energy_j: 2, power_w: null }],
      },
    });
    const m = nodeMetrics(s);
    expect(m.gpu).toEqual({ status: 'unavailable', reason: 'no GPUs' });
    expect(m.power).toEqual({ status: 'unavailable', reason: 'RAPL power needs two samples' });
  });
});

describe('node series', () => {
  it('appends each new snapshot once, keeps a window, forgets removed nodes', () => {
    const ns = new NodeSeries(10_000);
    expect(ns.update([node('a', { latest: snapshot(1000) })])).toBe(true);
    expect(ns.update([node('a', { latest: snapshot(1000) })])).toBe(false);
    const cpu = (ts: number, v: number): Snapshot =>
      snapshot(ts, {
        cpu: {
          status: 'available',
          value: {
            total_pct: v,
            per_core_pct: [],
            load_avg: [0, 0, 0],
            frequency_mhz: { status: 'unavailable', reason: 'x' },
          },
        },
      });
    ns.update([node('a', { latest: cpu(6000, 50) }), node('b', { latest: cpu(6000, 10) })]);
    ns.update([node('a', { latest: cpu(12_000, 75) }), node('b')]);
    expect(ns.points('a', 'cpu')).toEqual([
      { ts: 6000, v: 50 },
      { ts: 12_000, v: 75 },
    ]);
    expect(ns.points('a', 'gpu').map((p) => p.v)).toEqual([null, null]);
    expect(ns.points('b', 'cpu')).toEqual([{ ts: 6000, v: 10 }]);
    // A fresh array each time: a view redraws when the identity changes.
    expect(ns.points('a', 'cpu')).not.toBe(ns.points('a', 'cpu'));
    expect(ns.update([node('a')])).toBe(true);
    expect(ns.points('b', 'cpu')).toEqual([]);
  });
  it('draws a sparkline that breaks at unknown values', () => {
    const pts = [
      { ts: 0, v: 0 },
      { ts: 500, v: 50 },
      { ts: 600, v: null },
      { ts: 1000, v: 100 },
    ];
    expect(sparkPath(pts, 100, 22, 1000, 100)).toBe('M0.0 21.0 L50.0 11.0 M100.0 1.0');
    expect(sparkPath([], 100, 22, 1000, 100)).toBe('');
    // Auto-scaled (watts): the largest value sits below the top.
    expect(sparkPath([{ ts: 0, v: 10 }], 100, 22, 1000, null)).toBe('M100.0 2.8');
  });
});

describe('nodes', () => {
  it('lists the local node first, then trouble first, then by name', () => {
    const order = sortNodes([
      node('b'),
      node('c', { state: 'down' }),
      node('local'),
      node('a'),
      node('d', { state: 'suspect' }),
    ]).map((n) => n.id);
    expect(order).toEqual(['local', 'c', 'd', 'a', 'b']);
  });
  it('describes the state with heartbeat age and phi', () => {
    expect(stateDetail(node('a', { state: 'suspect', last_heartbeat_ms: 7000, phi: 3.14 }), 10_000)).toBe(
      'suspect · heartbeat 3 s ago · φ 3.1',
    );
    expect(stateDetail(node('a'), 0)).toBe('up · no heartbeat yet');
  });
  it('lists GPUs and hardware adapters but not software renderers', () => {
    const adapter = (name: string, device_type: string, is_software: boolean) => ({
      name,
      backend: 'vulkan',
      device_type,
      vendor_id: 0,
      device_id: 0,
      driver: '',
      driver_info: '',
      is_software,
      limits: {},
    });
    const n = node('a', {
      latest: snapshot(1, { gpus: { status: 'available', value: [gpu(0, 1, 1)] } }),
      inventory: {
        hostname: 'a',
        os: 'linux',
        kernel: '6',
        cpu_model: 'x',
        logical_cores: 2,
        physical_cores: 1,
        memory_total_bytes: 1,
        adapters: {
          status: 'available',
          value: [
            adapter('llvmpipe', 'cpu', true),
            adapter('Fake GPU 0', 'discrete_gpu', false),
            adapter('Intel Arc', 'integrated_gpu', false),
          ],
        },
        gpus: { status: 'unavailable', reason: 'not read' },
        gpu_links: { status: 'unavailable', reason: 'not read' },
        accelerators: [],
      },
    });
    expect(accelerators(n)).toEqual([
      { kind: 'gpu', name: 'Fake GPU 0', detail: 'GPU 0' },
      { kind: 'adapter', name: 'Intel Arc', detail: 'vulkan' },
    ]);
  });
  it('compares fingerprints whatever their spelling', () => {
    expect(normalizeFingerprint('SHA256:AB:cd:0F ')).toBe('abcd0f');
    expect(fingerprintsMatch('sha256:abcd', 'AB:CD')).toBe(true);
    expect(fingerprintsMatch('ab:cd', 'ab:ce')).toBe(false);
    expect(fingerprintsMatch('', '')).toBe(false);
  });
  it('refuses a fingerprint that differs from the pasted one, accepts a blank or matching one', () => {
    const probe = { address: 'a:1', fingerprint: 'sha256:abcd', plain_text: false };
    expect(confirmProblem(probe, '')).toBeNull();
    expect(confirmProblem(probe, 'AB:CD')).toBeNull();
    expect(confirmProblem(probe, 'sha256:abce')).toMatch(/differs/);
  });
  it('validates addresses', () => {
    expect(addressProblem('127.0.0.1:7443')).toBeNull();
    expect(addressProblem('https://gpu-3.lab:7443')).toBeNull();
    expect(addressProblem('[::1]:7443')).toBeNull();
    expect(addressProblem('')).toMatch(/Enter the address/);
    expect(addressProblem('gpu-3')).toMatch(/not host:port/);
    expect(addressProblem('gpu-3:99999')).toMatch(/out of range/);
  });
});

const part = (index: number, over: Partial<PartitionStatus> = {}): PartitionStatus => ({
  index,
  node: 'a',
  state: 'running',
  progress: 0.5,
  attempts: 1,
  straggler: false,
  speculative: false,
  log_tail: [],
  error: null,
  tries: [],
  output_cut: null,
  waiting: null,
  ...over,
});

describe('executions', () => {
  const exec = (id: string, created_ms: number, partitions: PartitionStatus[]): Execution => ({
    execution_id: id,
    task_id: 't',
    status: 'running',
    progress: 0.5,
    created_ms,
    finished_ms: null,
    error: null,
    partitions,
    output_limits: null,
  });
  it('sums up partitions: states, retries, stragglers, speculative copies, nodes', () => {
    const s = summarize(
      exec('e', 0, [
        part(0, { state: 'succeeded', attempts: 3, node: 'b' }),
        part(1, { straggler: true }),
        part(1, { speculative: true, node: 'c' }),
        part(2, { state: 'succeeded', node: null }),
      ]),
    );
    expect(s).toEqual({
      partitions: 4,
      byState: [
        ['succeeded', 2],
        ['running', 2],
      ],
      retries: 2,
      stragglers: 1,
      speculative: 1,
      nodes: ['a', 'b', 'c'],
    });
    expect(summaryText(s)).toBe('2 succeeded, 2 running · 2 retries · 1 straggler · 1 speculative copy');
    expect(summaryText(summarize(exec('e', 0, [])))).toBe('no partitions');
  });
  it('orders executions newest first and a speculative copy after its original', () => {
    expect(sortExecutions([exec('a', 1, []), exec('b', 2, [])]).map((e) => e.execution_id)).toEqual(['b', 'a']);
    const ps = orderedPartitions([part(1, { speculative: true, node: 'c' }), part(2), part(1), part(0)]);
    expect(ps.map((p) => `${p.index}${p.speculative ? 's' : ''}`)).toEqual(['0', '1', '1s', '2']);
  });
  it('tells where each attempt ran and how it ended', () => {
    const p = part(3, {
      tries: [
        { id: 'x1', node: 'a:1', state: 'lost', speculative: false },
        { id: 'x2', node: 'b:1', state: 'succeeded', speculative: true },
      ],
    });
    expect(triesText(p)).toBe('a:1 lost → b:1 succeeded (speculative)');
  });
  it('says where output was cut, how much it left out and where the rest is', () => {
    const cut = {
      kept_lines: 1000,
      kept_bytes: 3893,
      total_lines: 5001,
      total_bytes: 23897,
      by: 'lines' as const,
      spilled_bytes: 23897 + 5001,
      lost_lines: 0,
    };
    expect(cutText(cut)).toBe(
      'output cut after 1,000 lines (3.80 KiB) of 5,001 lines (23.3 KiB), at the line limit; 28.2 KiB in the output file',
    );
    expect(cutText({ ...cut, by: 'bytes', spilled_bytes: 1024 })).toMatch(
      /at the byte limit; 1.00 KiB in the output file \(the file reached its size limit\)$/,
    );
    expect(cutText({ ...cut, by: 'loss', spilled_bytes: 0, lost_lines: 3 })).toMatch(
      /^output incomplete after .*; 3 lines lost before they were read$/,
    );
    expect(limitsText({ max_lines: 100000, max_bytes: 4 << 20 })).toBe(
      'output kept: 100,000 lines / 4.0 MiB per partition',
    );
    expect(limitsText(null)).toBeNull();
  });
  it('formats progress and tells final states', () => {
    expect(progressText(0.426)).toBe('43 %');
    expect(progressText(1.7)).toBe('100 %');
    expect(progressText(NaN)).toBe('—');
    expect(isFinished('Succeeded')).toBe(true);
    expect(isFinished('running')).toBe(false);
    expect(stateTone('lost')).toBe('bad');
    expect(stateTone('suspect')).toBe('warn');
    expect(stateTone('running')).toBe('neutral');
  });
});

describe('poll', () => {
  it('polls at the cadence, never overlapping, and stops', async () => {
    vi.useFakeTimers();
    let calls = 0;
    let release: (() => void) | null = null;
    const got: number[] = [];
    const errs: unknown[] = [];
    const h = poll(
      () =>
        new Promise<number>((res, rej) => {
          calls++;
          if (calls === 2) rej(new Error('boom'));
          else release = () => res(calls);
        }),
      (v) => got.push(v),
      (e) => errs.push(e),
      1000,
    );
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(1); // still in flight: no second request
    release!();
    await vi.advanceTimersByTimeAsync(0);
    expect(got).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    expect(errs).toHaveLength(1); // an error does not stop the polling
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(3);
    h.now(); // in flight: runs again right after
    release!();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(4);
    h.stop();
    release!();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(4);
    expect(got).toEqual([1, 3]);
    vi.useRealTimers();
  });
  it('skips polls while inactive and resumes after', async () => {
    vi.useFakeTimers();
    let on = false;
    let calls = 0;
    const h = poll(
      async () => ++calls,
      () => {},
      () => {},
      1000,
      () => on,
    );
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(0);
    on = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(1);
    h.stop();
    vi.useRealTimers();
  });
});

describe('distribute form', () => {
  it('splits a command line like a shell, without expansion', () => {
    expect(splitArgs(`sh -c "echo \\"a b\\" \\$HOME" 'x y' z\\ w`)).toEqual({
      argv: ['sh', '-c', 'echo "a b" $HOME', 'x y', 'z w'],
    });
    expect(splitArgs(`  a   ''  `)).toEqual({ argv: ['a', ''] });
    expect(splitArgs(`echo "oops`)).toEqual({ error: 'unterminated double quote' });
  });
  it('builds the task for each input kind and refuses what is wrong', () => {
    expect(taskFromForm({ ...EMPTY_FORM, command: 'seq {start} {end}' })).toEqual({
      task: { command: ['seq', '{start}', '{end}'], input: { type: 'range', start: 0, end: 100 }, reuse: true },
    });
    expect(
      taskFromForm({
        ...EMPTY_FORM,
        command: 'x',
        input: 'shards',
        shards: '3',
        partitions: '3',
        reuse: false,
        wait: true,
      }),
    ).toEqual({
      task: { command: ['x'], input: { type: 'shards', count: 3 }, reuse: false, wait: true, partitions: 3 },
    });
    expect(
      taskFromForm({ ...EMPTY_FORM, command: 'wc {files}', input: 'files', files: ' a.txt\n\nb.txt ' }),
    ).toMatchObject({ task: { input: { type: 'files', files: ['a.txt', 'b.txt'] } } });
    expect(taskFromForm({ ...EMPTY_FORM, command: ' ' })).toMatchObject({
      error: expect.stringMatching(/Enter a command/),
    });
    expect(taskFromForm({ ...EMPTY_FORM, command: 'x', start: '5', end: '5' })).toMatchObject({
      error: expect.stringMatching(/greater than start/),
    });
    expect(taskFromForm({ ...EMPTY_FORM, command: 'x', input: 'shards', shards: '0' })).toEqual({
      error: 'Shards must be at least 1',
    });
    expect(taskFromForm({ ...EMPTY_FORM, command: 'x', partitions: '2.5' })).toEqual({
      error: 'Partitions must be a whole number',
    });
    expect(taskFromForm({ ...EMPTY_FORM, command: 'x', input: 'files', files: '\n' })).toMatchObject({
      error: expect.stringMatching(/at least one file/),
    });
  });
});

describe('datasets form', () => {
  it('reads sizes with decimal and binary units', () => {
    expect(parseSize('123')).toBe(123);
    expect(parseSize(' 1.5 GiB ')).toBe(1.5 * 2 ** 30);
    expect(parseSize('500MB')).toBe(500e6);
    expect(parseSize('2 tb')).toBe(2e12);
    expect(parseSize('7 PiB')).toBe(7 * 2 ** 50);
    expect(parseSize('8 PiB')).toEqual({ error: 'Size: must be below 8 PiB' });
    expect(parseSize('-1')).toHaveProperty('error');
    expect(parseSize('5 parsecs')).toEqual({
      error: 'Size: unknown unit "parsecs" (use B, kB, MB, GB, TB, PB or KiB … PiB)',
    });
    expect(parseSize('')).toHaveProperty('error');
  });
  it('splits node ids once each, and says which field is missing', () => {
    expect(parseNodes(' a:7443, b:7443  a:7443,,c ')).toEqual(['a:7443', 'b:7443', 'c']);
    expect(datasetFromForm({ name: ' logs ', size: '1 kB', nodes: 'a, b' })).toEqual({
      dataset: { name: 'logs', bytes: 1000, nodes: ['a', 'b'] },
    });
    expect(datasetFromForm({ name: '', size: '1', nodes: 'a' })).toHaveProperty(
      'error',
      expect.stringMatching(/^Name/),
    );
    expect(datasetFromForm({ name: 'x', size: 'lots', nodes: 'a' })).toHaveProperty(
      'error',
      expect.stringMatching(/^Size/),
    );
    expect(datasetFromForm({ name: 'x', size: '1', nodes: ' , ' })).toHaveProperty(
      'error',
      expect.stringMatching(/^Nodes/),
    );
  });
  it('marks a dataset node the cluster does not know', () => {
    const nodes = [node('a:7443', { state: 'down' })];
    expect(datasetNodeState('a:7443', nodes)).toEqual({ id: 'a:7443', known: true, state: 'down' });
    expect(datasetNodeState('z:1', nodes)).toEqual({ id: 'z:1', known: false, state: null });
  });
});

describe('nodes of an external engine', () => {
  const facts = {
    state: ['mixed', 'drain'],
    reason: 'maintenance',
    partitions: ['low', 'high'],
    cpus: 8,
    alloc_cpus: 6,
    load_avg: 3.5,
    memory_bytes: 16 * 2 ** 30,
    alloc_memory_bytes: 4 * 2 ** 30,
    free_memory_bytes: null,
    gpus: 2,
    gpus_used: 1,
  };

  it('says what the engine handed out, leaving out what it does not report', () => {
    expect(engineUsage(facts)).toBe('6 of 8 CPUs · 1 of 2 GPUs · 4.00 GiB of 16.0 GiB allocated · load 3.50');
    expect(engineUsage({ ...facts, gpus: null, load_avg: null })).toBe('6 of 8 CPUs · 4.00 GiB of 16.0 GiB allocated');
  });

  it("states the engine's own words instead of heartbeats", () => {
    const n = node('vm', { state: 'draining', engine: facts });
    expect(stateDetail(n, 0)).toBe('mixed+drain in Slurm · maintenance');
    expect(nodeMetrics(null, true).cpu).toEqual({
      status: 'unavailable',
      reason: 'Slurm reports no live metrics; run stewardd on the node',
    });
  });
});
