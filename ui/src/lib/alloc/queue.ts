// Grouping of allocations for the queue view. Order within a group is the server's (it is the
// scheduler's authoritative order); this module only sorts them into sections.
import { formatBytes } from '../format';
import type { Allocation, AllocationState, Qos } from './wire';

export type Section = 'running' | 'pending' | 'preempted' | 'done';

export const SECTIONS: { id: Section; label: string }[] = [
  { id: 'running', label: 'Running' },
  { id: 'pending', label: 'Pending' },
  { id: 'preempted', label: 'Preempted / suspended' },
  { id: 'done', label: 'Finished / cancelled' },
];

const SECTION_OF: Record<AllocationState, Section> = {
  running: 'running',
  pending: 'pending',
  preempted: 'preempted',
  suspended: 'preempted',
  finished: 'done',
  cancelled: 'done',
};

export function sectionOf(state: AllocationState): Section {
  return SECTION_OF[state] ?? 'done';
}

/** Sections; pending ones in the order the scheduler visits them (higher priority first, then
 * older; equal ones it orders by fair share, which the list cannot see), the rest as listed. */
export function groupAllocations(list: Allocation[]): Record<Section, Allocation[]> {
  const out: Record<Section, Allocation[]> = { running: [], pending: [], preempted: [], done: [] };
  for (const a of list) out[sectionOf(a.state)].push(a);
  out.pending.sort((a, b) => b.priority - a.priority || Date.parse(a.submitted_time) - Date.parse(b.submitted_time));
  return out;
}

/** What a pending allocation asks for (it holds nothing yet): "4 GPUs · 2 cores · 8 GiB". */
export function describeAsk(a: Pick<Allocation, 'request'>): string {
  const r = a.request.resources;
  const parts: string[] = [];
  const mem = r.gpu_memory_bytes ? ` (${formatBytes(Number(r.gpu_memory_bytes), 0)} of one)` : '';
  if (r.gpus) parts.push(`${r.gpus} GPU${r.gpus > 1 ? 's' : ''}${mem}`);
  if (r.cores) parts.push(`${r.cores} core${r.cores > 1 ? 's' : ''}`);
  if (r.memory_bytes) parts.push(formatBytes(Number(r.memory_bytes), 0));
  return parts.join(' · ') || 'nothing';
}

/** The kinds of event the queue's history lists: preemptions, and requeues or losses when a
 * node went away or changed. */
export const HISTORY_KINDS = ['preemption', 'requeued', 'lost'] as const;

/** One history from a list per kind: newest first, at most `limit`. */
export function mergeHistory<E extends { id: number; time: string }>(lists: E[][], limit = 50): E[] {
  return lists
    .flat()
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || b.id - a.id)
    .slice(0, limit);
}

/** Whether the user may still cancel it (a preempted one has ended; a requeued one is pending). */
export function cancellable(a: Allocation): boolean {
  return a.state === 'running' || a.state === 'pending' || a.state === 'suspended';
}

export const QOS_LABEL: Record<Qos, string> = {
  guaranteed: 'guaranteed',
  burstable: 'burstable',
  best_effort: 'best-effort',
};

/** "2 GPUs (vm/gpu0, vm/gpu1) · 8 cores · 32 GiB" — what it holds or asks for. */
export function describeResources(a: Pick<Allocation, 'gpus' | 'cores' | 'memory_bytes'>): string {
  const parts: string[] = [];
  if (a.gpus.length) parts.push(`${a.gpus.length} GPU${a.gpus.length > 1 ? 's' : ''} (${a.gpus.join(', ')})`);
  if (a.cores) parts.push(`${a.cores} core${a.cores > 1 ? 's' : ''}`);
  if (a.memory_bytes) parts.push(formatBytes(a.memory_bytes, 0));
  return parts.join(' · ') || 'nothing';
}

export const PRIORITY_CLASSES = ['critical', 'high', 'normal', 'low', 'scavenger'] as const;

/** What the "submit allocation" form edits. */
export interface AllocationDraft {
  owner: string;
  gpus: number;
  cores: number;
  memory_gib: number;
  /** A class name, or an integer typed in. */
  priority: string;
  qos: Qos;
  /** Empty = open end. */
  duration_h: string;
  reservation: string;
  preemption: 'requeue' | 'suspend' | 'cancel';
  grace_s: number;
}

export function emptyAllocationDraft(owner = ''): AllocationDraft {
  return {
    owner,
    gpus: 1,
    cores: 0,
    memory_gib: 0,
    priority: 'normal',
    qos: 'burstable',
    duration_h: '',
    reservation: '',
    preemption: 'requeue',
    grace_s: 0,
  };
}

/** The `allocation_request` a draft stands for, or its problems (the server checks again). */
export function allocationRequest(
  d: AllocationDraft,
  id: string,
): { request: Record<string, unknown> } | { errors: string[] } {
  const errors: string[] = [];
  if (!d.owner.trim()) errors.push('owner: required');
  const whole = (v: number) => Number.isInteger(v) && v >= 0;
  if (!whole(d.gpus)) errors.push('gpus: a whole number ≥ 0');
  if (!whole(d.cores)) errors.push('cores: a whole number ≥ 0');
  if (!(d.memory_gib >= 0)) errors.push('memory: ≥ 0');
  if (d.gpus === 0 && d.cores === 0 && !(d.memory_gib > 0)) errors.push('resources: ask for GPUs, cores or memory');
  const p = d.priority.trim();
  const priority: string | number | null = (PRIORITY_CLASSES as readonly string[]).includes(p)
    ? p
    : /^-?\d+$/.test(p)
      ? Number(p)
      : null;
  if (priority === null) errors.push(`priority: a class (${PRIORITY_CLASSES.join(', ')}) or an integer`);
  let duration_s: number | null = null;
  if (d.duration_h.trim()) {
    const h = Number(d.duration_h);
    if (!(h > 0)) errors.push('duration: hours above 0, or empty for an open end');
    else duration_s = Math.round(h * 3600);
  }
  if (errors.length) return { errors };
  return {
    request: {
      id,
      owner: d.owner.trim(),
      resources: { gpus: d.gpus, cores: d.cores, memory_bytes: Math.round(d.memory_gib * 1024 ** 3) },
      priority,
      qos: d.qos,
      duration_s,
      reservation: d.reservation.trim() || null,
      preemption: { mode: d.preemption, grace_s: d.grace_s },
    },
  };
}
