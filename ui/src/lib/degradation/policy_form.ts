// The policy editor's form: a policy as fields a person fills in (strings, as inputs hold them),
// and back. The server checks the policy and answers per field; this only shapes it.
import type { ConstraintKind } from '../bindings/ConstraintKind';
import type { Criticality } from '../bindings/Criticality';
import type { DegradationPolicy } from '../bindings/DegradationPolicy';
import type { PolicyStep } from '../bindings/PolicyStep';
import type { Qos } from '../bindings/Qos';
import type { StepAction } from '../bindings/StepAction';

export type PolicyKind = 'tier' | 'memory_setpoint' | 'latency_setpoint';

/** One step's row. `target` is a criticality, `module:<name>`, a QoS class, or `sampler`. */
export interface StepRow {
  action: StepAction;
  target: string;
  amount: string;
}

export interface PolicyForm {
  name: string;
  kind: PolicyKind;
  constraint: ConstraintKind;
  tier: string;
  steps: StepRow[];
  headroomPct: string;
  module: string;
  targetMs: string;
  deadbandPct: string;
}

export const ACTIONS: StepAction[] = [
  'lower_quality',
  'disable_features',
  'pause',
  'suspend_allocations',
  'lower_sampling',
];
export const CONSTRAINTS: ConstraintKind[] = ['memory', 'cpu', 'power', 'thermal', 'node_lost', 'accelerator_lost'];
const CRITICALITIES: Criticality[] = ['sheddable', 'normal', 'high'];
const QOS: Qos[] = ['best_effort', 'burstable'];

/** The targets an action can take, as the form's option values. */
export function targetsFor(action: StepAction, modules: string[]): string[] {
  if (action === 'suspend_allocations') return QOS;
  if (action === 'lower_sampling') return ['sampler'];
  return [...CRITICALITIES, ...modules.map((m) => `module:${m}`)];
}

/** How a target option reads. */
export function targetLabel(target: string): string {
  if (target.startsWith('module:')) return `module ${target.slice('module:'.length)}`;
  if (target === 'best_effort') return 'best-effort allocations';
  if (target === 'burstable') return 'burstable allocations';
  if (target === 'sampler') return "Steward's sampler";
  return `${target} modules`;
}

/** Whether the action takes an amount. */
export function takesAmount(action: StepAction): boolean {
  return action === 'lower_quality' || action === 'disable_features';
}

export function emptyForm(): PolicyForm {
  return {
    name: '',
    kind: 'tier',
    constraint: 'memory',
    tier: '1',
    steps: [{ action: 'lower_quality', target: 'sheddable', amount: '1' }],
    headroomPct: '20',
    module: '',
    targetMs: '200',
    deadbandPct: '',
  };
}

function targetOf(step: PolicyStep): string {
  const t = step.target;
  if (t === 'sampler') return 'sampler';
  if ('criticality' in t) return t.criticality;
  if ('module' in t) return `module:${t.module}`;
  return t.qos;
}

export function toForm(p: DegradationPolicy): PolicyForm {
  const form = emptyForm();
  form.name = p.name;
  form.steps = p.steps.map((s) => ({ action: s.action, target: targetOf(s), amount: s.amount?.toString() ?? '' }));
  if (p.when) {
    form.constraint = p.when.constraint;
    form.tier = String(p.when.tier);
  } else if (p.setpoint) {
    form.kind = 'memory_setpoint';
    form.headroomPct = String(p.setpoint.memory_headroom_pct);
    form.deadbandPct = String(p.setpoint.deadband_pct);
  } else if (p.latency_setpoint) {
    form.kind = 'latency_setpoint';
    form.module = p.latency_setpoint.module;
    form.targetMs = String(p.latency_setpoint.target_ms);
    form.deadbandPct = String(p.latency_setpoint.deadband_pct);
  }
  return form;
}

function stepOf(row: StepRow): PolicyStep {
  let target: PolicyStep['target'];
  if (row.target === 'sampler') target = 'sampler';
  else if (row.target.startsWith('module:')) target = { module: row.target.slice('module:'.length) };
  else if ((QOS as string[]).includes(row.target)) target = { qos: row.target as Qos };
  else target = { criticality: row.target as Criticality };
  const amount = takesAmount(row.action) && row.amount.trim() !== '' ? Number(row.amount) : null;
  return { action: row.action, target, amount };
}

/** The policy the form says; numbers the server refuses (blank, negative) are sent as typed. */
export function fromForm(f: PolicyForm): Record<string, unknown> {
  const deadband = f.deadbandPct.trim() === '' ? undefined : Number(f.deadbandPct);
  switch (f.kind) {
    case 'tier':
      return {
        name: f.name.trim(),
        when: { constraint: f.constraint, tier: Number(f.tier) },
        steps: f.steps.map(stepOf),
      };
    case 'memory_setpoint':
      return { name: f.name.trim(), setpoint: { memory_headroom_pct: Number(f.headroomPct), deadband_pct: deadband } };
    case 'latency_setpoint':
      return {
        name: f.name.trim(),
        latency_setpoint: { module: f.module.trim(), target_ms: Number(f.targetMs), deadband_pct: deadband },
      };
  }
}

/** A step row fitted to a new action: its target kept where the action can take it. */
export function withAction(row: StepRow, action: StepAction, modules: string[]): StepRow {
  const targets = targetsFor(action, modules);
  return {
    action,
    target: targets.includes(row.target) ? row.target : targets[0],
    amount: takesAmount(action) ? row.amount || '1' : '',
  };
}
