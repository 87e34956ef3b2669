import { describe, expect, it } from 'vitest';
import type { DevicePlan } from '../bindings/DevicePlan';
import { canRollBack, outcomeText, pct, planRequest, rollbackRequest, settingText } from './planner';

const device: DevicePlan = {
  node: 'local',
  device: 'gpu0',
  name: 'GPU',
  baseline_limit_w: 250,
  choice: { limit_w: 190, est_saving_pct: 15.24, est_slowdown_pct: 4.5, reachable: true },
  profile: [],
  before: { throughput: 1, power_w: 220, seconds: 5 },
  outcome: null,
};

describe('power planner logic', () => {
  it('builds the envelope the endpoint reads', () => {
    expect(planRequest(15, 5)).toEqual({ operation: 'plan', who: 'ui', plan: { target_pct: 15, profile_seconds: 5 } });
    expect(rollbackRequest({ changeId: 7 })).toEqual({ operation: 'rollback', who: 'ui', rollback: { change_id: 7 } });
    expect(rollbackRequest({ planId: 'p' })).toEqual({ operation: 'rollback', who: 'ui', rollback: { plan_id: 'p' } });
  });

  it('offers a rollback only for changes still in effect', () => {
    expect(canRollBack('applied')).toBe(true);
    expect(canRollBack('pending')).toBe(true);
    expect(canRollBack('denied')).toBe(false);
    expect(canRollBack('rolled_back')).toBe(false);
  });

  it('shows the estimate, then beside it the measured outcome', () => {
    expect(outcomeText(device)).toBe('estimated 15.2 % less energy, 4.5 % slower');
    const measured = {
      ...device,
      outcome: {
        before: device.before,
        after: device.before,
        measured_saving_pct: 14.0,
        measured_slowdown_pct: 5.01,
      },
    };
    expect(outcomeText(measured)).toContain('measured 14.0 % less, 5.0 % slower');
    expect(pct(null)).toBe('—');
    expect(settingText({ knob: 'gpu_power_limit' }, '190')).toBe('190 W');
    expect(settingText({ knob: 'gpu_locked_clocks' }, null)).toBe('unknown');
  });
});
