import { describe, expect, it } from 'vitest';
import { topology } from './topology';
import { figure, peakRows } from './peaks';
import { EMPTY_REGISTER_FORM, specFromForm } from './form';
import type { Characterization, NodeAccelerators } from './types';

const na = (reason: string) => ({ status: 'unavailable' as const, reason });
const ok = <T>(value: T) => ({ status: 'available' as const, value });

const gpu = (index: number) => ({
  index,
  uuid: `GPU-${index}`,
  name: `Fake NVIDIA GPU ${index}`,
  pci_bus_id: ok(`00000000:1${index}:00.0`),
  memory_total_bytes: ok(24 * 2 ** 30),
  compute_capability: ok('9.0'),
  max_sm_clock_mhz: ok(1980),
  max_memory_clock_mhz: ok(2619),
  power_limit_range_w: ok([200, 700] as [number, number]),
  default_power_limit_w: ok(700),
  mig_capable: false,
});

const node = (id: string, over: Partial<NodeAccelerators> = {}): NodeAccelerators => ({
  node: id,
  name: `host-${id}`,
  state: 'up',
  gpus: ok([gpu(0), gpu(1)]),
  gpu_links: ok([{ a: 0, b: 1, nvlinks: 2, pcie: ok('single_switch' as const) }]),
  adapters: ok([
    {
      name: 'llvmpipe (LLVM 15)',
      backend: 'vulkan',
      device_type: 'cpu',
      vendor_id: 0x10005,
      device_id: 0,
      driver: 'llvmpipe',
      driver_info: '',
      is_software: true,
      limits: {},
    },
  ]),
  registered: [],
  characterizations: [],
  ...over,
});

describe('topology', () => {
  it('puts each node in a group, GPUs placeable by their scheduler id, NVLink drawn', () => {
    const { nodes, edges } = topology(
      [node('local'), node('n2', { gpu_links: ok([{ a: 0, b: 1, nvlinks: 0, pcie: na('x') }]) })],
      [],
    );
    expect(nodes.filter((n) => n.type === 'host').map((n) => n.id)).toEqual(['node:local', 'node:n2']);
    const gpus = nodes.filter((n) => n.type === 'accel' && (n.data as { kind: string }).kind === 'gpu');
    expect(gpus.map((n) => (n.data as { gpuId: string }).gpuId)).toEqual([
      'local/gpu0',
      'local/gpu1',
      'n2/gpu0',
      'n2/gpu1',
    ]);
    expect(edges.map((e) => [e.source, e.target, e.label, e.kind])).toEqual([
      ['acc:local/gpu0', 'acc:local/gpu1', '2× NVLink', 'nvlink'],
      ['acc:n2/gpu0', 'acc:n2/gpu1', 'PCIe · PCIe path unknown', 'pcie'],
    ]);
    // The second group starts right of the first: no overlap.
    const [a, b] = nodes.filter((n) => n.type === 'host');
    expect(b.position.x).toBeGreaterThan(a.position.x + a.width!);
  });

  it('shows software adapters as not offered and live figures or why not', () => {
    const live = [{ id: 'local', latest: null } as never];
    const { nodes } = topology([node('local')], live);
    const sw = nodes.find((n) => (n.data as { kind?: string }).kind === 'adapter')!.data as { offered: boolean };
    expect(sw.offered).toBe(false);
    const g0 = nodes.find((n) => n.id === 'acc:local/gpu0')!.data as { live: string[] };
    expect(g0.live).toEqual(['no live sample yet']);
  });
});

describe('peaks', () => {
  const c: Characterization = {
    node: 'local',
    adapter: {
      name: 'NVIDIA H100 80GB HBM3',
      backend: 'vulkan',
      device_type: 'discrete_gpu',
      driver: 'NVIDIA',
      driver_info: '550',
      vendor_id: 0x10de,
      device_id: 1,
      is_software: false,
    },
    measured_at_ms: 1,
    kernels: [
      {
        kernel: 'matmul_f32',
        result: ok({
          value: 33500,
          unit: 'GFLOP/s',
          problem: '2048×2048×2048',
          runs: 5,
          max_error: 0,
          checked_elements: 257,
        }),
      },
      {
        kernel: 'latency',
        result: ok({ value: 12.5, unit: 'µs', problem: '1 workgroup', runs: 21, max_error: 0, checked_elements: 1 }),
      },
      { kernel: 'matmul_f16', result: na('the adapter lacks SHADER_F16') },
    ],
    nvml: null,
    published: {
      model: 'NVIDIA H100 SXM5',
      fp32_gflops: 67000,
      fp16_gflops: 133800,
      memory_gbps: 3350,
      source: 'datasheet',
    },
  };

  it('divides measured by the published peak only where there is one', () => {
    const rows = peakRows(c);
    expect(rows.map((r) => [r.kernel, r.achieved, r.peak])).toEqual([
      ['matmul_f32', 0.5, 67000],
      ['latency', null, null],
      ['matmul_f16', null, 133800],
    ]);
    expect(rows[2].reason).toBe('the adapter lacks SHADER_F16');
    expect(figure(0.026180765)).toBe('0.0262');
    expect(figure(33500)).toBe('33,500');
  });
});

describe('register form', () => {
  it('builds the spec and says what the form itself can see is wrong', () => {
    const f = {
      ...EMPTY_REGISTER_FORM,
      id: 'tpu0',
      model: 'TPU v5e',
      memoryGib: '16',
      precisions: ['bf16' as const],
      peaks: 'bf16=197',
      healthCheck: 'tpu-info  --check',
    };
    const r = specFromForm(f);
    expect('spec' in r && r.spec).toEqual({
      id: 'tpu0',
      node: 'local',
      kind: 'tpu',
      model: 'TPU v5e',
      memory_bytes: 16 * 2 ** 30,
      precisions: ['bf16'],
      peak_tflops: { bf16: 197 },
      health_check: ['tpu-info', '--check'],
    });
    expect(specFromForm({ ...f, peaks: 'bf16:197' })).toEqual({ error: 'peak: "bf16:197" is not PRECISION=TFLOPS' });
    expect(specFromForm({ ...f, memoryGib: 'lots' })).toEqual({ error: 'memory: a number of GiB' });
  });
});

describe('framing', () => {
  it('shows every node, never zoomed in', async () => {
    const { framing } = await import('./topology');
    const g = topology([node('local'), node('n2')], []);
    const right = Math.max(...g.nodes.filter((n) => n.type === 'host').map((n) => n.position.x + n.width!));
    const v = framing(g, 900, 420);
    expect(v.zoom).toBeLessThan(1);
    expect(16 + right * v.zoom).toBeLessThanOrEqual(900 - 16 + 1e-9);
    expect(framing(topology([], []), 900, 420).zoom).toBe(1);
  });
});
