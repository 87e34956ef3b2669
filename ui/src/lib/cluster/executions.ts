// How the executions view sums up a distributed execution and its partitions.
import type { Execution, PartitionStatus } from './types';

/** Newest first. */
export function sortExecutions(xs: Execution[]): Execution[] {
  return [...xs].sort((a, b) => b.created_ms - a.created_ms || a.execution_id.localeCompare(b.execution_id));
}

export interface ExecutionSummary {
  partitions: number;
  /** Partitions per state, in the order states first appear. */
  byState: [string, number][];
  /** Extra attempts beyond the first, over all partitions. */
  retries: number;
  stragglers: number;
  speculative: number;
  nodes: string[];
}

export function summarize(e: Execution): ExecutionSummary {
  const byState = new Map<string, number>();
  const nodes = new Set<string>();
  let retries = 0;
  let stragglers = 0;
  let speculative = 0;
  for (const p of e.partitions) {
    byState.set(p.state, (byState.get(p.state) ?? 0) + 1);
    if (p.node) nodes.add(p.node);
    retries += Math.max(0, p.attempts - 1);
    if (p.straggler) stragglers++;
    if (p.speculative) speculative++;
  }
  return { partitions: e.partitions.length, byState: [...byState], retries, stragglers, speculative, nodes: [...nodes].sort() };
}

/** "3 of 8 partitions succeeded · 2 retries · 1 straggler". */
export function summaryText(s: ExecutionSummary): string {
  const parts = [s.byState.map(([st, n]) => `${n} ${st}`).join(', ') || 'no partitions'];
  if (s.retries) parts.push(`${s.retries} ${s.retries === 1 ? 'retry' : 'retries'}`);
  if (s.stragglers) parts.push(`${s.stragglers} straggler${s.stragglers === 1 ? '' : 's'}`);
  if (s.speculative) parts.push(`${s.speculative} speculative cop${s.speculative === 1 ? 'y' : 'ies'}`);
  return parts.join(' · ');
}

/** "a lost → b succeeded (speculative)": where each attempt ran and how it ended, oldest first. */
export function triesText(p: PartitionStatus): string {
  return p.tries.map((t) => `${t.node} ${t.state}${t.speculative ? ' (speculative)' : ''}`).join(' → ');
}

/** A 0..1 progress as "42 %", clamped (the server's value is shown, never extrapolated). */
export function progressText(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  return `${Math.round(Math.min(1, Math.max(0, p)) * 100)} %`;
}

/** Partitions ordered by index, a speculative copy right after the original it races. */
export function orderedPartitions(ps: PartitionStatus[]): PartitionStatus[] {
  return [...ps].sort((a, b) => a.index - b.index || Number(a.speculative) - Number(b.speculative));
}

const FINISHED = new Set(['succeeded', 'success', 'done', 'finished', 'completed', 'failed', 'cancelled', 'canceled', 'discarded']);

/** Whether an execution (or partition) state is final: such executions need no more polling. */
export function isFinished(state: string): boolean {
  return FINISHED.has(state.toLowerCase());
}

/** The CSS tone of a state: ok, bad, warn or neutral. */
export function stateTone(state: string): 'ok' | 'bad' | 'warn' | 'neutral' {
  const s = state.toLowerCase();
  if (['succeeded', 'success', 'done', 'finished', 'completed', 'up'].includes(s)) return 'ok';
  if (['failed', 'lost', 'down', 'discarded', 'cancelled', 'canceled'].includes(s)) return 'bad';
  if (['retrying', 'suspect', 'draining', 'straggler', 'pending', 'queued'].includes(s)) return 'warn';
  return 'neutral';
}
