// The Degradation view's pure logic: how a module's quality, the timeline's events and an
// override read to a person, and the envelopes the view sends.
import type { DegradationEvent } from '../bindings/DegradationEvent';
import type { DegradeChange } from '../bindings/DegradeChange';
import type { ModuleDegradation } from '../bindings/ModuleDegradation';
import type { ModuleOverride } from '../bindings/ModuleOverride';

/** "level 1 of 0–2: 15 fps, 720p" — 0 is full quality. */
export function qualityText(m: ModuleDegradation): string {
  const label = m.levels[m.commanded_level]?.label;
  const range = `0–${Math.max(m.levels.length - 1, 0)}`;
  return `level ${m.commanded_level} of ${range}${label ? `: ${label}` : ''}`;
}

/** True when Steward takes anything away from the module. */
export function degraded(m: ModuleDegradation): boolean {
  return m.commanded_level > 0 || m.paused || m.features.some((f) => !f.commanded_on);
}

export function changeText(c: DegradeChange): string {
  switch (c.change) {
    case 'lower_quality':
      return `${c.module}: quality −${c.levels}`;
    case 'disable_feature':
      return `${c.module}: ${c.feature} off`;
    case 'pause':
      return `${c.module}: paused`;
    case 'suspend_allocations':
      return `${c.qos === 'best_effort' ? 'best-effort' : c.qos} allocations suspended`;
    case 'lower_sampling':
      return 'Steward samples less often';
  }
}

export function overrideText(o: ModuleOverride): string {
  const parts: string[] = [];
  if (o.force_level !== null && o.force_level !== undefined) parts.push(`level forced to ${o.force_level}`);
  if (o.pinned_features.length) parts.push(`${o.pinned_features.join(', ')} pinned on`);
  if (o.exempt) parts.push('exempt from policies');
  return `${parts.join('; ')} by ${o.by}`;
}

/** One line of the timeline. */
export function eventText(e: DegradationEvent): string {
  const d = e.detail;
  switch (d.kind) {
    case 'constraint_started':
      return `constraint ${d.constraint.key} started (tier ${d.constraint.tier}): ${d.constraint.summary}`;
    case 'constraint_changed':
      return `constraint ${d.constraint.key} now tier ${d.constraint.tier}: ${d.constraint.summary}`;
    case 'constraint_ended':
      return `constraint ${d.key} ended`;
    case 'applied':
      return `${d.policy} fired (${d.reason}): ${d.changes.map(changeText).join(', ')}`;
    case 'restored':
      return `${d.policy} given back (${d.reason}): ${d.changes.map(changeText).join(', ')}`;
    case 'override_set':
      return `override of ${d.over.module}: ${overrideText(d.over)}`;
    case 'override_released':
      return `override of ${d.module} released by ${d.by}`;
    case 'refused':
      return `${d.policy} refused: ${d.reason}`;
  }
}

/** The `override` envelope for a form: a level to force (blank: none), pins, exemption. */
export function overrideEnvelope(
  module: string,
  form: { level: string; pinned: string[]; exempt: boolean },
  by: string,
): Record<string, unknown> {
  const level = form.level.trim() === '' ? null : Number(form.level);
  return {
    operation: 'override',
    by,
    override: { module, force_level: level, pinned_features: form.pinned, exempt: form.exempt },
  };
}
