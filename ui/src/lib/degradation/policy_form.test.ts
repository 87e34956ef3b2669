import { describe, expect, it } from 'vitest';
import type { DegradationPolicy } from '../bindings/DegradationPolicy';
import { emptyForm, fromForm, targetsFor, toForm, withAction } from './policy_form';

describe('the policy form', () => {
  it('round-trips a tier policy with every kind of target', () => {
    const p: DegradationPolicy = {
      name: 'memory-90',
      when: { constraint: 'memory', tier: 3 },
      setpoint: null,
      latency_setpoint: null,
      steps: [
        { action: 'pause', target: { criticality: 'sheddable' }, amount: null },
        { action: 'lower_quality', target: { module: 'reasoning' }, amount: 2 },
        { action: 'suspend_allocations', target: { qos: 'best_effort' }, amount: null },
        { action: 'lower_sampling', target: 'sampler', amount: null },
      ],
    };
    const form = toForm(p);
    expect(form.steps.map((s) => s.target)).toEqual(['sheddable', 'module:reasoning', 'best_effort', 'sampler']);
    expect(fromForm(form)).toEqual({ name: 'memory-90', when: p.when, steps: p.steps });
  });

  it('builds setpoints, leaving a blank deadband to the server default', () => {
    const f = {
      ...emptyForm(),
      name: ' hold ',
      kind: 'latency_setpoint' as const,
      module: 'reasoning',
      targetMs: '150',
    };
    expect(fromForm(f)).toEqual({
      name: 'hold',
      latency_setpoint: { module: 'reasoning', target_ms: 150, deadband_pct: undefined },
    });
    const m = toForm({
      name: 'm',
      when: null,
      setpoint: { memory_headroom_pct: 25, deadband_pct: 5 },
      latency_setpoint: null,
      steps: [],
    });
    expect(fromForm(m)).toEqual({ name: 'm', setpoint: { memory_headroom_pct: 25, deadband_pct: 5 } });
  });

  it('offers only targets an action can take, and keeps what still fits', () => {
    expect(targetsFor('suspend_allocations', ['a'])).toEqual(['best_effort', 'burstable']);
    expect(targetsFor('pause', ['a'])).toEqual(['sheddable', 'normal', 'high', 'module:a']);
    const row = { action: 'pause' as const, target: 'module:a', amount: '' };
    expect(withAction(row, 'lower_quality', ['a'])).toEqual({
      action: 'lower_quality',
      target: 'module:a',
      amount: '1',
    });
    expect(withAction(row, 'lower_sampling', ['a'])).toEqual({
      action: 'lower_sampling',
      target: 'sampler',
      amount: '',
    });
  });
});
