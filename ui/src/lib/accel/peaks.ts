// Measured beside published: one row per kernel of a characterization, with the achieved
// fraction of the vendor's peak where one is known (never a guessed peak).
import type { Characterization, Kernel } from './types';

export interface PeakRow {
  kernel: Kernel;
  label: string;
  /** The measured figure in `unit`, or null with `reason` when the kernel could not run. */
  measured: number | null;
  unit: string;
  problem: string;
  peak: number | null;
  /** measured / peak, 0–1 (or above, if the hardware beats its datasheet). */
  achieved: number | null;
  reason: string | null;
}

const LABELS: Record<Kernel, string> = {
  matmul_f32: 'matmul f32',
  matmul_f16: 'matmul f16',
  bandwidth: 'memory bandwidth',
  latency: 'dispatch latency',
};

function peakOf(c: Characterization, k: Kernel): number | null {
  const p = c.published;
  if (!p) return null;
  if (k === 'matmul_f32') return p.fp32_gflops;
  if (k === 'matmul_f16') return p.fp16_gflops;
  if (k === 'bandwidth') return p.memory_gbps;
  return null;
}

export function peakRows(c: Characterization): PeakRow[] {
  return c.kernels.map((k) => {
    const peak = peakOf(c, k.kernel);
    if (k.result.status === 'unavailable')
      return {
        kernel: k.kernel,
        label: LABELS[k.kernel],
        measured: null,
        unit: '',
        problem: '',
        peak,
        achieved: null,
        reason: k.result.reason,
      };
    const m = k.result.value;
    return {
      kernel: k.kernel,
      label: LABELS[k.kernel],
      measured: m.value,
      unit: m.unit,
      problem: m.problem,
      peak,
      achieved: peak ? m.value / peak : null,
      reason: null,
    };
  });
}

/** A figure with three significant digits, e.g. 0.0262, 41.9, 1,230. */
export function figure(v: number): string {
  if (v === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(v))));
  return v.toLocaleString('en-US', { maximumFractionDigits: Math.min(digits, 4) });
}
