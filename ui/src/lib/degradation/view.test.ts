import { describe, expect, it } from 'vitest';
import type { ModuleDegradation } from '../bindings/ModuleDegradation';
import { degraded, eventText, overrideEnvelope, qualityText } from './view';

const module: ModuleDegradation = {
  node: 'local',
  name: 'learning',
  role: 'learning',
  criticality: 'sheddable',
  state: 'active',
  lost_reason: null,
  levels: [
    { level: 0, label: 'batch 64', cpu_millis: null, memory_bytes: null, gpu_memory_bytes: null },
    { level: 1, label: 'batch 16', cpu_millis: null, memory_bytes: null, gpu_memory_bytes: null },
  ],
  minimal_level: 1,
  commanded_level: 1,
  reported_level: 1,
  paused: false,
  features: [{ name: 'augment', rank: 1, commanded_on: true, reported_on: true, pinned: false }],
  cpu_millis: null,
  memory_bytes: null,
  goodput_per_s: null,
  transitions: 1,
  over: null,
};

describe('degradation view', () => {
  it('says the level with its meaning and whether anything is taken away', () => {
    expect(qualityText(module)).toBe('level 1 of 0–1: batch 16');
    expect(degraded(module)).toBe(true);
    expect(degraded({ ...module, commanded_level: 0 })).toBe(false);
  });

  it('words the timeline', () => {
    const line = eventText({
      ts_ms: 1,
      detail: {
        kind: 'applied',
        policy: 'memory-70',
        reason: 'RSS of workload is 72 % of the 400 MiB budget (tier 1)',
        changes: [
          { change: 'disable_feature', module: 'learning', feature: 'augment' },
          { change: 'lower_quality', module: 'learning', levels: 1 },
          { change: 'suspend_allocations', qos: 'best_effort' },
          { change: 'lower_sampling' },
        ],
      },
    });
    expect(line).toBe(
      'memory-70 fired (RSS of workload is 72 % of the 400 MiB budget (tier 1)): learning: augment off, learning: quality −1, best-effort allocations suspended, Steward samples less often',
    );
  });

  it('builds the override envelope, a blank level forcing none', () => {
    expect(overrideEnvelope('learning', { level: '', pinned: ['augment'], exempt: false }, 'ui')).toEqual({
      operation: 'override',
      by: 'ui',
      override: { module: 'learning', force_level: null, pinned_features: ['augment'], exempt: false },
    });
    expect(
      (overrideEnvelope('m', { level: '2', pinned: [], exempt: true }, 'ui').override as { force_level: number })
        .force_level,
    ).toBe(2);
  });
});
