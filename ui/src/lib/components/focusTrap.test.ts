import { describe, expect, it } from 'vitest';
import { wrapTarget } from './focusTrap';

describe('wrapTarget', () => {
  const items = ['a', 'b', 'c'];
  it('wraps Tab from the last control to the first', () => expect(wrapTarget(items, 'c', false)).toBe('a'));
  it('wraps Shift+Tab from the first control to the last', () => expect(wrapTarget(items, 'a', true)).toBe('c'));
  it('lets the browser move focus in the middle', () => expect(wrapTarget(items, 'b', false)).toBeNull());
  it('pulls focus back in from outside the dialog', () => {
    expect(wrapTarget(items, 'x', false)).toBe('a');
    expect(wrapTarget(items, null, true)).toBe('c');
  });
  it('has nowhere to go without controls', () => expect(wrapTarget([], 'a', false)).toBeNull());
});
