// How the executions view sums up a distributed execution and its partitions.
import type { OutputCut } from '../bindings/OutputCut';
import type { OutputLimits } from '../bindings/OutputLimits';
import { formatBytes, formatCount } from '../format';
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
  return {
    partitions: e.partitions.length,
    byState: [...byState],
    retries,
    stragglers,
    speculative,
    nodes: [...nodes].sort(),
  };
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

const FINISHED = new Set([
  'succeeded',
  'success',
  'done',
  'finished',
  'completed',
  'failed',
  'cancelled',
  'canceled',
  'discarded',
]);

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

const lines = (n: number) => `${formatCount(n)} line${n === 1 ? '' : 's'}`;

/** "output cut after 1,000 lines (3.8 KiB) of 5,001 lines (23.9 KiB), at the line limit; 23.9 KiB
 *  in the output file": where the cut is, how much was left out, and where the rest is. */
export function cutText(c: OutputCut): string {
  const at = `output cut after ${lines(c.kept_lines)} (${formatBytes(c.kept_bytes)}) of ${lines(c.total_lines)} (${formatBytes(c.total_bytes)})`;
  const parts = [
    c.by === 'loss'
      ? at.replace('output cut', 'output incomplete')
      : `${at}, at the ${c.by === 'lines' ? 'line' : 'byte'} limit`,
  ];
  if (c.spilled_bytes > 0) {
    const whole = c.spilled_bytes >= c.total_bytes + c.total_lines - c.lost_lines;
    parts.push(
      `${formatBytes(c.spilled_bytes)} in the output file${whole ? '' : ' (the file reached its size limit)'}`,
    );
  }
  if (c.lost_lines > 0) parts.push(`${lines(c.lost_lines)} lost before they were read`);
  return parts.join('; ');
}

/** "keeps 100,000 lines / 4 MiB per partition". */
export function limitsText(l: OutputLimits | null | undefined): string | null {
  if (!l || (l.max_lines === null && l.max_bytes === null)) return null;
  const each = [
    l.max_lines !== null ? lines(l.max_lines) : null,
    l.max_bytes !== null ? formatBytes(l.max_bytes, 1) : null,
  ];
  return `output kept: ${each.filter(Boolean).join(' / ')} per partition`;
}
