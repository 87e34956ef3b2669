// The register form: its fields as the user types them, and the spec the server checks (every
// wrong field comes back by name and shows under its input).
import type { AcceleratorKind, AcceleratorSpec, SpecPrecision } from './types';

export const PRECISIONS: SpecPrecision[] = ['fp64', 'fp32', 'tf32', 'bf16', 'fp16', 'fp8', 'int8', 'int4'];
export const KINDS: AcceleratorKind[] = ['tpu', 'fpga', 'npu', 'gpu', 'other'];

export interface RegisterForm {
  id: string;
  node: string;
  kind: AcceleratorKind;
  model: string;
  memoryGib: string;
  precisions: SpecPrecision[];
  /** `bf16=197, int8=394` */
  peaks: string;
  bandwidthGbps: string;
  /** The health check as words, e.g. `tpu-info --check`. */
  healthCheck: string;
}

export const EMPTY_REGISTER_FORM: RegisterForm = {
  id: '',
  node: 'local',
  kind: 'tpu',
  model: '',
  memoryGib: '',
  precisions: [],
  peaks: '',
  bandwidthGbps: '',
  healthCheck: '',
};

/** The spec, or the first problem the form itself can see (the server checks the rest). */
export function specFromForm(f: RegisterForm): { spec: AcceleratorSpec } | { error: string } {
  const gib = Number(f.memoryGib);
  if (f.memoryGib.trim() === '' || !Number.isFinite(gib)) return { error: 'memory: a number of GiB' };
  const peak: Partial<Record<SpecPrecision, number>> = {};
  for (const part of f.peaks
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [p, v] = part.split('=').map((s) => s.trim());
    if (!PRECISIONS.includes(p as SpecPrecision) || v === undefined || !Number.isFinite(Number(v)))
      return { error: `peak: "${part}" is not PRECISION=TFLOPS` };
    peak[p as SpecPrecision] = Number(v);
  }
  const spec: AcceleratorSpec = {
    id: f.id.trim(),
    node: f.node.trim() || 'local',
    kind: f.kind,
    model: f.model.trim(),
    memory_bytes: Math.round(gib * 2 ** 30),
    precisions: f.precisions,
    peak_tflops: peak,
  };
  if (f.bandwidthGbps.trim() !== '') spec.memory_bandwidth_gbps = Number(f.bandwidthGbps);
  const words = f.healthCheck.trim().split(/\s+/).filter(Boolean);
  if (words.length > 0) spec.health_check = words;
  return { spec };
}
