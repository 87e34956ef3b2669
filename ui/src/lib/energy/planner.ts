// The power planner's pure logic: the requests it sends to POST /resources/energy (or the
// `energy` command) and the words and numbers it shows.
import type { ChangeState } from '../bindings/ChangeState';
import type { DevicePlan } from '../bindings/DevicePlan';
import type { JournalEntry } from '../bindings/JournalEntry';
import type { PowerPlan } from '../bindings/PowerPlan';

export function planRequest(targetPct: number, profileSeconds: number): Record<string, unknown> {
  return { operation: 'plan', who: 'ui', plan: { target_pct: targetPct, profile_seconds: profileSeconds } };
}

export function applyRequest(planId: string): Record<string, unknown> {
  return { operation: 'apply', who: 'ui', apply: { plan_id: planId } };
}

export function rollbackRequest(target: { planId: string } | { changeId: number }): Record<string, unknown> {
  const rollback = 'planId' in target ? { plan_id: target.planId } : { change_id: target.changeId };
  return { operation: 'rollback', who: 'ui', rollback };
}

export const JOURNAL_REQUEST = { operation: 'journal', limit: 50 } as const;

/** A change a rollback can still undo: made (or its effect unknown) and not undone yet. */
export function canRollBack(state: ChangeState): boolean {
  return state === 'applied' || state === 'pending';
}

export function pct(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? '—' : `${v.toFixed(1)} %`;
}

/** A setting's value with its unit, e.g. "187.5 W". */
export function settingText(e: Pick<JournalEntry, 'knob'>, value: string | null): string {
  if (value == null) return 'unknown';
  const unit: Record<string, string> = { gpu_power_limit: ' W', cpu_max_freq: ' kHz', gpu_locked_clocks: ' MHz' };
  return value === 'default' ? value : `${value}${unit[e.knob] ?? ''}`;
}

/** The estimate beside what was measured after applying, in words. */
export function outcomeText(d: DevicePlan): string {
  const est = `estimated ${pct(d.choice.est_saving_pct)} less energy, ${pct(d.choice.est_slowdown_pct)} slower`;
  if (!d.outcome) return est;
  return `${est}; measured ${pct(d.outcome.measured_saving_pct)} less, ${pct(d.outcome.measured_slowdown_pct)} slower`;
}

/** The plan's total: estimate, and the measured outcome once applied. */
export function planSummary(p: PowerPlan): string {
  if (p.measured_saving_pct == null) return p.message;
  return `${p.message}; measured ${pct(p.measured_saving_pct)} less energy, ${pct(p.measured_slowdown_pct)} slower`;
}
