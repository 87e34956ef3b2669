import { describe, expect, it } from 'vitest';
import type { EnergyMonitor } from '../bindings/EnergyMonitor';
import { PowerTrail, provenanceDetail, provenanceLabel, wattsText } from './view';

const measured = { kind: 'measured', meter: 'NVML' } as const;
function monitor(gpuW: number | null, cpuW: number): EnergyMonitor {
  const source = (id: string, w: number | null, inTotal = true) => ({
    id,
    kind: 'gpu' as const,
    label: id,
    power_w:
      w === null
        ? { status: 'unavailable' as const, reason: 'needs two samples' }
        : { status: 'available' as const, value: w },
    energy_j: null,
    provenance: measured,
    in_total: inTotal,
  });
  return {
    nodes: [
      {
        node: 'local',
        energy: {
          status: 'available',
          value: {
            since_ms: 0,
            sources: [source('gpu.0', gpuW), source('cpu.package-0', cpuW), source('battery.BAT0', 9, false)],
            total_w: { status: 'available', value: cpuW + (gpuW ?? 0) },
            total_provenance: measured,
            left_out: [],
          },
        },
      },
    ],
  } as unknown as EnergyMonitor;
}

describe('energy view', () => {
  it('words provenance and never shows an unknown as 0 W', () => {
    expect(provenanceLabel(measured)).toBe('measured (NVML)');
    expect(provenanceDetail({ kind: 'modelled', assumptions: 'TDP 15 W (table)' })).toBe('Estimated: TDP 15 W (table)');
    expect(provenanceDetail({ kind: 'attributed', of: 'gpu.0', share: 0.25, basis: 'share of SM utilization' })).toBe(
      '25.0 % of gpu.0 (share of SM utilization)',
    );
    expect(wattsText({ status: 'unavailable', reason: 'no RAPL' })).toBe('unavailable: no RAPL');
    expect(wattsText({ status: 'available', value: 100.5 })).toBe('100.5 W');
  });

  it('stacks counted sources and leaves gaps where a source had no value', () => {
    const t = new PowerTrail(10);
    t.add(1_000, monitor(100, 20));
    t.add(2_000, monitor(null, 30));
    t.add(20_000, monitor(50, 10));
    const { names, data } = t.chart();
    expect(names).toEqual(['local / cpu.package-0', 'local / gpu.0']);
    // Only the last row is within 10 s of the newest; batteries are never stacked into a total.
    expect(data).toEqual([[20], [10], [60]]);
    const t2 = new PowerTrail();
    t2.add(1_000, monitor(100, 20));
    t2.add(2_000, monitor(null, 30));
    expect(t2.chart().data).toEqual([
      [1, 2],
      [20, 30],
      [120, null],
    ]);
  });
});
