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

export function groupAllocations(list: Allocation[]): Record<Section, Allocation[]> {
  const out: Record<Section, Allocation[]> = { running: [], pending: [], preempted: [], done: [] };
  for (const a of list) out[sectionOf(a.state)].push(a);
  return out;
}

/** Whether the user may still cancel it. */
export function cancellable(a: Allocation): boolean {
  return a.state !== 'finished' && a.state !== 'cancelled';
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
